// PGlite is one session: a transaction holds it whole while others queue. A transaction that
// waited long in that queue must still run and end, never leave the session held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/index.js";

describe("transactions on the embedded database (PGlite)", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ kind: "pglite-memory" });
    await db.migrate();
  });
  afterAll(() => db?.close());

  it("a transaction queued behind a long one (past Prisma's default 2 s wait) runs, and the database keeps answering after", async () => {
    const long = db.prisma.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT 1`);
      await new Promise((r) => setTimeout(r, 3000));
      return "long";
    });
    await new Promise((r) => setTimeout(r, 100));
    const queued = db.prisma.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT 2`);
      return "queued";
    });
    expect(await long).toBe("long");
    expect(await queued).toBe("queued");
    const answer = await Promise.race([db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT 3 AS n`), new Promise((r) => setTimeout(() => r("hung"), 5000))]);
    expect(answer).toEqual([{ n: 3 }]);
  });
});
