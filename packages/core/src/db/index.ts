export { openDatabase, DatabaseUnavailableError, PrismaClient, type Database, type DatabaseConfig } from "./client.js";
export { DataDirInUseError } from "./data-dir-lock.js";
export { applyMigrations, readMigrations, migrationsDir, schemaPath, MigrationError, type Migration, type SqlRunner } from "./migrations.js";
export { diffSchema, type SchemaDiff } from "./schema-engine.js";
export * from "../generated/prisma/client.js";
export { retryOnConflict, dbRetries } from "./retry.js";
