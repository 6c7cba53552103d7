import { createHash } from "node:crypto";
import pg from "pg";
import { openDatabase, readMigrations } from "../../src/db/index.js";
import { POSTGRES_URL, serviceAvailable } from "./services.js";

/**
 * Migrates one template database per set of migrations, so that each test file can get
 * a fresh PostgreSQL database with CREATE DATABASE ... TEMPLATE in a few milliseconds.
 */
export default async function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  if (!(await serviceAvailable("PostgreSQL", POSTGRES_URL))) {
    provide("pgTemplate", "");
    return;
  }
  const migrations = await readMigrations();
  const hash = createHash("sha256").update(migrations.map((m) => m.name + m.checksum).join()).digest("hex").slice(0, 12);
  const template = `berth_tmpl_${hash}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    // Concurrent test runs must not both build the template (or copy a half-built one).
    await admin.query("SELECT pg_advisory_lock(7424802)");
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${template}`);
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${template}`;
      const db = await openDatabase({ kind: "postgres", url: url.toString(), poolSize: 1 });
      await db.migrate();
      await db.close();
    }
    // Databases left behind by runs that were killed: only those over two hours old, since
    // other test runs may be using theirs right now.
    const stale = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'berth\\_t\\_%'");
    const cutoff = Date.now() / 1000 - 2 * 3600;
    for (const row of stale.rows as { datname: string }[]) {
      const created = Number(row.datname.split("_")[2]);
      if (!(created > cutoff)) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`).catch(() => {});
    }
  } finally {
    await admin.end();
  }
  provide("pgTemplate", template);
}
