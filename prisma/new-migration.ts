// Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the
// current migrations to schema.prisma. Usage: pnpm db:migration <name>
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { diffSchema, migrationsDir, openDatabase, schemaPath } from "@berth/core/db";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: pnpm db:migration <name>   (name: lower-case letters, digits, underscores)");
  process.exit(2);
}
const db = await openDatabase({ kind: "pglite-memory" });
try {
  await db.migrate();
  const diff = await diffSchema({ schema: await readFile(schemaPath, "utf8"), schemaPath, adapter: db.adapter, from: "database" });
  if (diff.exitCode === 0 || diff.sql === "" || /^-- This is an empty migration/.test(diff.sql)) {
    console.log("schema.prisma matches the migrations: nothing to write");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const folder = join(migrationsDir, `${stamp}_${name}`);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "migration.sql"), diff.sql + "\n");
    console.log(`wrote ${folder}/migration.sql`);
  }
} finally {
  await db.close();
}
