import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { applyMigrations, type SqlRunner } from "./migrations.js";

export { PrismaClient };
export type DatabaseConfig = { kind: "pglite"; dataDir: string } | { kind: "pglite-memory" } | { kind: "postgres"; url: string; poolSize?: number };

/** The database could not be reached or refused us; `reason` is one line for a person. */
export class DatabaseUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`database unavailable: ${reason}`);
    this.name = "DatabaseUnavailableError";
  }
}

export interface Database {
  kind: "pglite" | "postgres";
  prisma: PrismaClient;
  /** Driver adapter factory, for the schema engine. */
  adapter: SqlMigrationAwareDriverAdapterFactory;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Throws DatabaseUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function describePgError(error: unknown, url: string): string {
  const e = error as { code?: string; message?: string; errors?: { message: string }[] };
  const where = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return "DATABASE_URL";
    }
  })();
  switch (e.code) {
    case "ECONNREFUSED":
      return `nothing listens at ${where} (connection refused)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host of ${where} not found`;
    case "ETIMEDOUT":
      return `connection to ${where} timed out`;
    case "28P01":
    case "28000":
      return `authentication failed at ${where}: ${e.message}`;
    case "3D000":
      return `database does not exist at ${where}: ${e.message}`;
    default: {
      const message = e.message || e.errors?.map((x) => x.message).join("; ") || String(error);
      return `${where}: ${message.split("\n")[0]}`;
    }
  }
}

async function openPglite(config: { kind: "pglite"; dataDir: string } | { kind: "pglite-memory" }): Promise<Database> {
  // Loaded here, not at the top: a replica on PostgreSQL never needs the embedded database's code.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  let releaseLock = async () => {};
  let pglite: PGlite;
  if (config.kind === "pglite") {
    await mkdir(config.dataDir, { recursive: true });
    releaseLock = await acquireDataDirLock(config.dataDir);
    pglite = await PGlite.create(config.dataDir);
  } else {
    pglite = await PGlite.create();
  }
  const adapter = new PrismaPGlite(pglite);
  // PGlite is one session: a transaction holds it whole, and the others queue for it. Prisma's
  // default 2 s wait to start a transaction would, under load, give up on one that the adapter
  // still starts later, with nobody left to end it: the session would stay held for good. So the
  // wait is long (a queued transaction still runs), and each transaction stays bounded by its
  // own timeout.
  const prisma = new PrismaClient({ adapter, transactionOptions: { maxWait: 120_000, timeout: 15_000 } });
  const runner: SqlRunner = {
    exec: async (sql) => {
      await pglite.exec(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query(sql, params)).rows as T[],
    withMigrationLock: (fn) => fn(),
  };
  return {
    kind: "pglite",
    prisma,
    adapter,
    migrate: () => applyMigrations(runner),
    ping: async () => {
      await pglite.query("SELECT 1");
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
      await releaseLock();
    },
  };
}

async function openPostgres(config: { kind: "postgres"; url: string; poolSize?: number }): Promise<Database> {
  const probe = new pg.Client({ connectionString: config.url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    await probe.query("SELECT 1");
  } catch (error) {
    await probe.end().catch(() => {});
    throw new DatabaseUnavailableError(describePgError(error, config.url));
  }
  await probe.end();
  const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // Nor one that is handed out between queries: the Prisma adapter listens for a connection's
  // errors only a microtask after the pool hands it over, and a server's termination message
  // read in between would be an 'error' event with no listener. The holder still learns of it:
  // the client refuses its next query, and is then dropped from the pool.
  pool.on("connect", (client) => client.on("error", () => {}));
  const adapter = new PrismaPg(pool);
  const prisma = new PrismaClient({ adapter });
  const migrate = async () => {
    const client = new pg.Client({ connectionString: config.url });
    await client.connect();
    const runner: SqlRunner = {
      exec: async (sql) => {
        await client.query(sql);
      },
      query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
      withMigrationLock: async (fn) => {
        // Replicas starting at once: the first migrates, the others wait and find nothing to do.
        await client.query("SELECT pg_advisory_lock(7424801)");
        try {
          return await fn();
        } finally {
          await client.query("SELECT pg_advisory_unlock(7424801)");
        }
      },
    };
    try {
      return await applyMigrations(runner);
    } finally {
      await client.end();
    }
  };
  return {
    kind: "postgres",
    prisma,
    adapter,
    migrate,
    ping: async () => {
      try {
        const client = await pool.connect();
        try {
          await client.query("SELECT 1");
        } finally {
          client.release();
        }
      } catch (error) {
        throw new DatabaseUnavailableError(describePgError(error, config.url));
      }
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

/** Opens Berth's database: embedded PGlite (on disk or in memory) or PostgreSQL, by config. */
export function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === "postgres" ? openPostgres(config) : openPglite(config);
}
