import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidCronQueryError, listCronRuns, pruneCronHistory } from "../../src/cron/index.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";

describe("cron run history", () => {
  let t: TestDatabase;
  const base = Date.UTC(2030, 0, 1);
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    const { prisma } = t.db;
    for (const job of ["alpha", "beta"]) await prisma.cronJob.create({ data: { name: job, schedule: "* * * * * *" } });
    // alpha: 12 finished runs and one still running; beta: 5 runs, every other one failed.
    for (let i = 0; i < 12; i++) {
      await prisma.cronRun.create({ data: { job: "alpha", replica: "r", scheduledAt: new Date(base + i * 1000), status: "succeeded" } });
    }
    await prisma.cronRun.create({ data: { job: "alpha", replica: "r", scheduledAt: new Date(base - 60_000), status: "running" } });
    for (let i = 0; i < 5; i++) {
      await prisma.cronRun.create({ data: { job: "beta", replica: "r", scheduledAt: new Date(base + i * 1000), status: i % 2 ? "failed" : "succeeded" } });
    }
  });
  afterAll(() => t.drop());

  it("pages newest first with a cursor until the end", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await listCronRuns(t.db.prisma, { job: "alpha", first: 5, after });
      seen.push(...page.runs.map((r) => r.scheduledAt.toISOString()));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    const expected = [...Array.from({ length: 12 }, (_, i) => new Date(base + (11 - i) * 1000).toISOString()), new Date(base - 60_000).toISOString()];
    expect(seen).toEqual(expected);
  });

  it("filters by job and status", async () => {
    const failed = await listCronRuns(t.db.prisma, { status: "failed", first: 10 });
    expect(failed.runs.map((r) => [r.job, r.scheduledAt.getTime() - base])).toEqual([
      ["beta", 3000],
      ["beta", 1000],
    ]);
    const everything = await listCronRuns(t.db.prisma, { first: 100 });
    expect(everything.runs).toHaveLength(18);
    expect(everything.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
  });

  it("rejects a page size out of range, a foreign cursor or an unknown status", async () => {
    for (const first of [0, 501, 2.5]) await expect(listCronRuns(t.db.prisma, { first })).rejects.toBeInstanceOf(InvalidCronQueryError);
    await expect(listCronRuns(t.db.prisma, { first: 5, after: "bm9wZQ" })).rejects.toMatchObject({ field: "after" });
    await expect(listCronRuns(t.db.prisma, { first: 5, status: "exploded" as never })).rejects.toMatchObject({ field: "status" });
  });

  it("pruning keeps the newest N finished runs per job and every running one", async () => {
    await expect(pruneCronHistory(t.db.prisma, 0)).rejects.toBeInstanceOf(InvalidCronQueryError);
    expect(await t.db.prisma.cronRun.count()).toBe(18);
    expect(await pruneCronHistory(t.db.prisma, 3)).toBe(11);
    const left = await t.db.prisma.cronRun.findMany({ orderBy: [{ job: "asc" }, { scheduledAt: "desc" }] });
    expect(left.map((r) => [r.job, r.status, r.scheduledAt.getTime() - base])).toEqual([
      ["alpha", "succeeded", 11_000],
      ["alpha", "succeeded", 10_000],
      ["alpha", "succeeded", 9000],
      ["alpha", "running", -60_000],
      ["beta", "succeeded", 4000],
      ["beta", "failed", 3000],
      ["beta", "succeeded", 2000],
    ]);
    expect(await pruneCronHistory(t.db.prisma, 3)).toBe(0);
  });

  it("a job's own historyKeep overrides the default for that job only", async () => {
    // After the test above: alpha keeps 3 finished runs (and its running one), beta 3.
    expect(await pruneCronHistory(t.db.prisma, 3, { beta: 1 })).toBe(2);
    const left = await t.db.prisma.cronRun.findMany({ orderBy: [{ job: "asc" }, { scheduledAt: "desc" }] });
    expect(left.map((r) => [r.job, r.scheduledAt.getTime() - base])).toEqual([
      ["alpha", 11_000],
      ["alpha", 10_000],
      ["alpha", 9000],
      ["alpha", -60_000],
      ["beta", 4000],
    ]);
    await expect(pruneCronHistory(t.db.prisma, 3, { beta: 0 })).rejects.toBeInstanceOf(InvalidCronQueryError);
  });
});
