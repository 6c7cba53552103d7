import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDatabase, type Database } from "../../src/db/index.js";
import { POSTGRES_URL, postgresAvailable } from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}

export interface TestDatabase {
  db: Database;
  url?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated PostgreSQL database of its own, copied from the template. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const template = inject("pgTemplate");
  if (!template) throw new Error("PostgreSQL is not available");
  // The creation time in the name lets a later run drop databases that a killed run left behind.
  const name = `berth_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export type Backend = "pglite" | "postgres";

/** The backends a data-layer suite runs on: both when PostgreSQL is reachable. */
export const backends: Backend[] = postgresAvailable ? ["pglite", "postgres"] : ["pglite"];

export async function openTestDatabase(backend: Backend, poolSize = 10): Promise<TestDatabase> {
  if (backend === "pglite") {
    const db = await openDatabase({ kind: "pglite-memory" });
    await db.migrate();
    return { db, drop: () => db.close() };
  }
  const fresh = await freshPostgres();
  const db = await openDatabase({ kind: "postgres", url: fresh.url, poolSize });
  return {
    db,
    url: fresh.url,
    drop: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}
