// A connection of the pool that PostgreSQL terminates (pg_terminate_backend, a failover, an idle
// timeout) while it is handed out but between queries. That window exists in the driver adapter:
// it listens for a connection's errors one microtask after the pool hands the connection over, so a
// termination message read in between became an 'error' event with no listener: the API process
// ended (seen in apps/api/test/faults/pg-terminate.test.ts, about one run in eight).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/index.js";
import { freshPostgres } from "../support/databases.js";
import { postgresAvailable, POSTGRES_URL } from "../support/services.js";

/** The pg pool behind Prisma's adapter (the factory keeps the pool it was given). */
function poolOf(db: Database): pg.Pool {
  const pool = (db.adapter as unknown as { externalPool?: pg.Pool }).externalPool;
  if (!(pool instanceof pg.Pool)) throw new Error("the PostgreSQL database has no pg pool behind its adapter");
  return pool;
}

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  } finally {
    await admin.end();
  }
}

describe.skipIf(!postgresAvailable)("a pooled PostgreSQL connection terminated by the server", () => {
  let db: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshPostgres();
    drop = fresh.drop;
    db = await openDatabase({ kind: "postgres", url: fresh.url, poolSize: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it("while handed out and between queries, does not end the process, and the pool serves on fresh connections", async () => {
    const pool = poolOf(db);
    // Handed out and idle, with no listener of the holder's own: the window described above, held open.
    const client = await pool.connect();
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    await terminate(pid);
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error("the terminated connection never ended")), 10_000))]);
    await expect(client.query("SELECT 1")).rejects.toThrow();
    client.release(true);

    // More queries than the pool has connections, and a transaction: none lands on the dead one.
    for (let i = 0; i < 3; i++) expect(await db.prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    expect(await db.prisma.$transaction(async (tx) => tx.$queryRaw<{ two: number }[]>`SELECT 2 AS two`)).toEqual([{ two: 2 }]);
    expect(pool.totalCount).toBeLessThanOrEqual(2);
  });
});
