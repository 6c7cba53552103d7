import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's migrations folder, in Prisma's format. */
export const migrationsDir = fileURLToPath(new URL("../../../../prisma/migrations", import.meta.url));
export const schemaPath = fileURLToPath(new URL("../../../../prisma/schema.prisma", import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** Raw SQL access that both PGlite and node-postgres can give: multi-statement scripts included. */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` holding a database-wide lock, so that replicas starting together migrate once. */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
}

export async function readMigrations(dir: string = migrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

/** Same table as Prisma Migrate keeps, so `prisma migrate deploy` and Berth agree on what is applied. */
const createHistoryTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  constructor(
    readonly migration: string,
    message: string,
  ) {
    super(`migration ${migration}: ${message}`);
    this.name = "MigrationError";
  }
}

/**
 * Applies every migration not yet applied, in name order, each in its own transaction.
 * Refuses to continue when an applied migration's file changed since it was applied.
 */
export async function applyMigrations(runner: SqlRunner, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await readMigrations());
  return runner.withMigrationLock(async () => {
    await runner.exec(createHistoryTable);
    const rows = await runner.query<{ migration_name: string; checksum: string; finished_at: unknown }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const applied = new Map(rows.map((r) => [r.migration_name, r]));
    const done: string[] = [];
    for (const m of all) {
      const row = applied.get(m.name);
      if (row) {
        if (row.finished_at === null) throw new MigrationError(m.name, "a previous attempt failed half-way; fix the database and mark it rolled back");
        if (row.checksum !== m.checksum) throw new MigrationError(m.name, "its migration.sql changed after it was applied");
        continue;
      }
      const id = randomUUID();
      await runner.exec("BEGIN");
      try {
        await runner.exec(m.sql);
        await runner.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), 1)`,
          [id, m.checksum, m.name],
        );
        await runner.exec("COMMIT");
      } catch (error) {
        await runner.exec("ROLLBACK");
        throw new MigrationError(m.name, (error as Error).message);
      }
      done.push(m.name);
    }
    return done;
  });
}
