// A fresh, migrated PostgreSQL database for one benchmark, dropped at the end. Names carry their
// creation time, so a run that was killed leaves nothing that a later run does not clean up.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "@berth/core/db";

export interface BenchDatabase {
  url: string;
  db: Database;
  drop(): Promise<void>;
}

const STALE_SECONDS = 2 * 3600;

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(serverUrl: string, poolSize = 10): Promise<BenchDatabase> {
  const name = `berth_bench_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {});
  let db: Database | undefined;
  try {
    db = await openDatabase({ kind: "postgres", url: url.toString(), poolSize });
    await db.migrate();
  } catch (error) {
    await db?.close().catch(() => {});
    await drop();
    throw error;
  }
  const opened = db;
  return {
    url: url.toString(),
    db: opened,
    drop: async () => {
      await opened.close().catch(() => {});
      await drop();
    },
  };
}

/** Drops benchmark databases over two hours old (left by killed runs; a run takes minutes). */
export async function dropStaleDatabases(serverUrl: string): Promise<void> {
  await admin(serverUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'berth\\_bench\\_%'");
    const cutoff = Date.now() / 1000 - STALE_SECONDS;
    for (const { datname } of rows) {
      if (!(Number(datname.split("_")[2]) > cutoff)) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
    }
  });
}
