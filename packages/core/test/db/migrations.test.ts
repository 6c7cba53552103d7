import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { diffSchema, openDatabase, readMigrations, schemaPath } from "../../src/db/index.js";

describe("migrations", () => {
  it("produce exactly schema.prisma (the schema engine finds no difference)", async () => {
    const db = await openDatabase({ kind: "pglite-memory" });
    try {
      const applied = await db.migrate();
      expect(applied).toEqual((await readMigrations()).map((m) => m.name));
      const diff = await diffSchema({ schema: await readFile(schemaPath, "utf8"), schemaPath, adapter: db.adapter, from: "database" });
      expect(diff.sql).toMatch(/^(-- This is an empty migration\.)?$/);
      expect(diff.exitCode).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("a schema change the migrations lack is reported as drift", async () => {
    const db = await openDatabase({ kind: "pglite-memory" });
    try {
      await db.migrate();
      const schema = (await readFile(schemaPath, "utf8")).replace("model Pool {", "model Pool {\n  extraColumn String?");
      const diff = await diffSchema({ schema, schemaPath, adapter: db.adapter, from: "database" });
      expect(diff.exitCode).toBe(2);
      expect(diff.sql).toContain('ADD COLUMN     "extraColumn" TEXT');
    } finally {
      await db.close();
    }
  });
});
