import { tsImport } from "tsx/esm/api";
import { describe, expect, it } from "vitest";
import { InvalidCronExpressionError, InvalidCronJobError, builtinCronJobs, defineCronJob, type CronContext } from "../../src/cron/index.js";

const ctx = (scheduledAt = new Date("2030-01-01T00:00:00Z")): CronContext => ({ fencingToken: 7, signal: new AbortController().signal, scheduledAt, replicaId: "r", trigger: "schedule" });

describe("defineCronJob", () => {
  it("fills the defaults: UTC, a 30 s lock, overlap skip", () => {
    const job = defineCronJob({ name: "nightly", schedule: "0 0 3 * * *", run: () => {} });
    expect(job).toMatchObject({ name: "nightly", schedule: "0 0 3 * * *", timeZone: "UTC", lockTtlMs: 30_000, overlap: "skip" });
    expect(job.cron.next(new Date("2030-01-01T00:00:00Z"))).toEqual(new Date("2030-01-01T03:00:00Z"));
  });

  it.each([
    [{ name: "" }, "name"],
    [{ name: "has space" }, "name"],
    [{ lockTtl: 50 }, "lockTtl"],
    [{ lockTtl: 1000.5 }, "lockTtl"],
    [{ overlap: "queue" }, "overlap"],
    [{ historyKeep: 0 }, "historyKeep"],
    [{ historyKeep: 2.5 }, "historyKeep"],
    [{ run: "nope" }, "run"],
  ])("rejects %j with InvalidCronJobError on %s", (patch, field) => {
    expect(() => defineCronJob({ name: "ok", schedule: "* * * * *", run: () => {}, ...(patch as object) })).toThrow(InvalidCronJobError);
    expect(() => defineCronJob({ name: "ok", schedule: "* * * * *", run: () => {}, ...(patch as object) })).toThrow(expect.objectContaining({ field }));
  });

  it("rejects a bad expression or time zone with InvalidCronExpressionError", () => {
    expect(() => defineCronJob({ name: "ok", schedule: "every day", run: () => {} })).toThrow(InvalidCronExpressionError);
    expect(() => defineCronJob({ name: "ok", schedule: "* * * * *", timeZone: "Nowhere/Else", run: () => {} })).toThrow(InvalidCronExpressionError);
  });
});

describe("cron decorators (standard TC39 decorators)", () => {
  type Fixture = typeof import("./fixtures/decorated-service.js");

  it("collect one job per decorated method of an instance, bound to that instance", async () => {
    const { ReportService, jobsOf }: Fixture = await tsImport("./fixtures/decorated-service.ts", import.meta.url);
    const a = new ReportService("a");
    const b = new ReportService("b");
    const jobs = jobsOf(a);
    expect(jobs.map((j) => [j.name, j.schedule, j.timeZone, j.lockTtlMs, j.overlap])).toEqual([
      ["ReportService.refresh", "*/10 * * * * *", "Europe/Berlin", 5000, "wait"],
      ["reports.minutely", "0 * * * * *", "UTC", 30_000, "skip"],
      ["ReportService.five", "0 */5 * * * *", "UTC", 30_000, "skip"],
      ["ReportService.daily", "0 0 0 * * *", "UTC", 30_000, "skip"],
    ]);
    await jobs[0]!.run(ctx());
    await jobsOf(b)[1]!.run(ctx());
    expect(a.calls).toEqual(["a:refresh:2030-01-01T00:00:00.000Z"]);
    expect(b.calls).toEqual(["b:minutely"]);
    expect(jobsOf({})).toEqual([]);
  });

  it("refuse an invalid time zone when the class is defined", async () => {
    await expect(tsImport("./fixtures/bad-decorator.ts", import.meta.url)).rejects.toMatchObject({ name: "InvalidCronExpressionError", timeZone: "Europe/Atlantis" });
  });
});

describe("builtinCronJobs", () => {
  it("defines reconcile, reservation expiry and history pruning around the given callbacks", async () => {
    const calls: string[] = [];
    const jobs = builtinCronJobs({
      reconcile: () => calls.push("reconcile"),
      expireReservations: () => calls.push("expire"),
      pruneHistory: () => calls.push("prune"),
    });
    expect(jobs.map((j) => [j.name, j.schedule, j.historyKeep])).toEqual([
      // The reconcile pass runs every few seconds: its history is kept short.
      ["reconcile-pools", "*/5 * * * * *", 50],
      ["expire-reservations", "*/30 * * * * *", null],
      ["prune-cron-history", "0 */10 * * * *", null],
    ]);
    for (const j of jobs) await j.run(ctx());
    expect(calls).toEqual(["reconcile", "expire", "prune"]);
    const custom = builtinCronJobs({ reconcile: () => {}, expireReservations: () => {}, pruneHistory: () => {}, reconcileSchedule: "*/2 * * * * *" });
    expect(custom[0]!.schedule).toBe("*/2 * * * * *");
    expect(() => builtinCronJobs({ reconcile: () => {}, expireReservations: () => {}, pruneHistory: () => {}, reconcileSchedule: "soon" })).toThrow(InvalidCronExpressionError);
  });
});
