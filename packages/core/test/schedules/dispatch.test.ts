// Schedules against a real database with an injected clock: each dispatch pass is run by hand
// at a chosen time, so catch-up, overlap policies and backfill are exact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cancelTask, reportTask } from "../../src/tasks/index.js";
import {
  backfillSchedule,
  createSchedule,
  dispatchSchedules,
  fireTimeKey,
  getSchedule,
  InvalidScheduleError,
  latestRuns,
  listScheduleRuns,
  nextFireTimes,
  pauseSchedule,
  pruneScheduleRuns,
  resumeSchedule,
  ScheduleNameTakenError,
  triggerSchedule,
  updateSchedule,
  type ScheduleInput,
} from "../../src/schedules/index.js";
import { scheduleMetrics } from "../../src/schedules/metrics.js";
import { backends } from "../support/databases.js";
import { openCore, seedPool, type CoreHarness } from "../support/core.js";

describe.each(backends)("schedules on %s", (backend) => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  const actor = { replicaId: "test", fencingToken: null };
  /** One dispatch pass, `seconds` after the clock's current time. */
  const passAfter = async (seconds: number, fencingToken: number | null = null) => {
    h.clock.advance(seconds);
    return dispatchSchedules(h.ctx, { replicaId: "dispatcher", fencingToken });
  };
  const make = (input: Partial<ScheduleInput> = {}) =>
    createSchedule(h.ctx, { name: "every-second", cron: "* * * * * *", pool: "web", taskType: "plan", payload: { n: 1 }, ...input });
  const runsOf = async (name = "every-second") => {
    const schedule = await getSchedule(h.ctx, name);
    return h.ctx.prisma.scheduleRun.findMany({ where: { scheduleId: schedule.id }, orderBy: { fireAt: "asc" }, include: { task: true } });
  };
  const tasks = () => h.ctx.prisma.task.findMany({ orderBy: { seq: "asc" } });
  const sec = (d: Date) => (d.getTime() - new Date("2026-01-01T00:00:00Z").getTime()) / 1000;

  it("submits one task per fire time, with the schedule's type and payload, and a repeated pass changes nothing", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "allow_all" });
    const counted = async () => (await scheduleMetrics.runs.get()).values.find((v) => v.labels.status === "submitted")?.value ?? 0;
    const countedBefore = await counted();
    for (let i = 0; i < 5; i++) await passAfter(1);
    expect((await counted()) - countedBefore).toBe(5);
    const before = await runsOf();
    expect(before.map((r) => [sec(r.fireAt), r.status, r.trigger])).toEqual([1, 2, 3, 4, 5].map((s) => [s, "submitted", "schedule"]));
    expect(before.map((r) => r.task?.idempotencyKey)).toEqual(before.map((r) => fireTimeKey(r.scheduleId, r.fireAt)));
    expect((await tasks()).map((t) => [t.type, t.payload])).toEqual(Array.from({ length: 5 }, () => ["plan", { n: 1 }]));
    await passAfter(0);
    expect(await runsOf()).toEqual(before);
    expect(await tasks()).toHaveLength(5);
  });

  it("passes racing on separate connections (and recovering each other's claims) still give one run and one task per fire time", async () => {
    await seedPool(h.ctx, "web", 0);
    for (let i = 0; i < 10; i++) await make({ name: `s${i}`, overlap: i % 2 ? "allow_all" : "skip" });
    for (let round = 0; round < 3; round++) {
      h.clock.advance(1);
      // Local-mode actors (no token) treat each other's pending claims as abandoned: the harshest race.
      await Promise.all([1, 2, 3, 4].map((n) => dispatchSchedules(h.ctx, { replicaId: `racer-${n}`, fencingToken: null })));
    }
    const runs = await h.ctx.prisma.scheduleRun.findMany({ include: { schedule: true } });
    expect(runs).toHaveLength(30);
    expect(new Set(runs.map((r) => `${r.scheduleId}@${r.fireAt.toISOString()}`)).size).toBe(30);
    const submitted = runs.filter((r) => r.status === "submitted");
    // allow_all: all three fire times of each of 5 schedules; skip: only the first of each of 5.
    expect(submitted).toHaveLength(5 * 3 + 5);
    expect(runs.filter((r) => r.status === "skipped").every((r) => r.schedule.overlap === "skip")).toBe(true);
    const all = await tasks();
    expect(all).toHaveLength(submitted.length);
    expect(new Set(submitted.map((r) => r.taskId))).toEqual(new Set(all.map((t) => t.id)));
  });

  it("a pass claims a bounded number of fire times; the next pass claims the rest, and none is lost", async () => {
    await seedPool(h.ctx, "web", 0);
    for (let i = 0; i < 24; i++) await make({ name: `s${i}`, catchupWindowSeconds: 3600 });
    // 90 s without a pass: 24 × 90 fire times due within the window, more than one pass takes.
    const first = await passAfter(90);
    const afterFirst = await h.ctx.prisma.scheduleRun.count();
    expect(afterFirst).toBeGreaterThanOrEqual(2000);
    expect(afterFirst).toBeLessThan(24 * 90);
    expect(first.submitted + first.skipped).toBe(afterFirst);
    await passAfter(0);
    expect(await h.ctx.prisma.scheduleRun.count()).toBe(24 * 90);
    expect(await tasks()).toHaveLength(24);
  });

  it("passes its deadline on to each task, and leaves the pool's default when it has none", async () => {
    await seedPool(h.ctx, "web", 0, 3, { taskTimeoutSeconds: 900 });
    await make({ name: "with-deadline", timeoutSeconds: 120 });
    await make({ name: "pool-default" });
    await passAfter(1);
    const byType = async (name: string) => (await runsOf(name))[0]!.task!.timeoutSeconds;
    expect(await byType("with-deadline")).toBe(120);
    expect(await byType("pool-default")).toBe(900);
  });

  it("catches up fire times missed while no pass ran: within the window run oldest first, older ones recorded as missed", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ catchupWindowSeconds: 4, overlap: "allow_all" });
    await passAfter(10.5);
    const runs = await runsOf();
    expect(runs.map((r) => [sec(r.fireAt), r.status])).toEqual([
      ...[1, 2, 3, 4, 5, 6].map((s) => [s, "missed"]),
      ...[7, 8, 9, 10].map((s) => [s, "submitted"]),
    ]);
    expect(runs.filter((r) => r.status === "submitted").map((r) => r.trigger)).toEqual(["catch_up", "catch_up", "catch_up", "schedule"]);
    // Submitted oldest first.
    const submitted = runs.filter((r) => r.task).map((r) => r.task!.seq);
    expect(submitted).toEqual([...submitted].sort((a, b) => a - b));
    expect(await tasks()).toHaveLength(4);
  });

  it("skip: a fire time while the previous task is active is skipped; the next after it ended runs", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "skip" });
    await passAfter(1);
    await passAfter(1);
    const [first, second] = await runsOf();
    expect([first!.status, second!.status, second!.note]).toEqual(["submitted", "skipped", "the previous task is still active"]);
    await cancelTask(h.ctx, first!.taskId!);
    await passAfter(1);
    expect((await runsOf()).map((r) => r.status)).toEqual(["submitted", "skipped", "submitted"]);
    expect((await runsOf())[0]!.outcome).toBe("cancelled");
  });

  it("buffer_one: one fire time waits for the active task and runs once it ended, before newer ones; others are skipped", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "buffer_one" });
    await passAfter(1);
    await passAfter(1);
    await passAfter(1);
    expect((await runsOf()).map((r) => r.status)).toEqual(["submitted", "buffered", "skipped"]);
    await cancelTask(h.ctx, (await runsOf())[0]!.taskId!);
    await passAfter(1);
    const runs = await runsOf();
    // The buffered fire time (2) got the task; the new one (4) found it active and waits in the buffer.
    expect(runs.map((r) => [sec(r.fireAt), r.status])).toEqual([
      [1, "submitted"],
      [2, "submitted"],
      [3, "skipped"],
      [4, "buffered"],
    ]);
    expect(await tasks()).toHaveLength(2);
  });

  it("allow_all: every fire time submits a task, whatever is active", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "allow_all" });
    for (let i = 0; i < 3; i++) await passAfter(1);
    expect((await runsOf()).map((r) => r.status)).toEqual(["submitted", "submitted", "submitted"]);
    expect((await tasks()).map((t) => t.status)).toEqual(["pending", "pending", "pending"]);
  });

  it("cancel_other: a new fire time cancels the active task and runs", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "cancel_other" });
    await passAfter(1);
    await passAfter(1);
    expect((await tasks()).map((t) => t.status)).toEqual(["cancelled", "pending"]);
    await passAfter(0);
    expect((await runsOf()).map((r) => [r.status, r.outcome])).toEqual([
      ["submitted", "cancelled"],
      ["submitted", null],
    ]);
  });

  it("backfill runs each fire time of a past range once, oldest first, with the overlap policy; a second backfill adds nothing", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ cron: "*/10 * * * * *", overlap: "allow_all" });
    h.clock.advance(3600);
    const from = new Date("2026-01-01T00:10:00Z");
    const to = new Date("2026-01-01T00:10:40Z");
    const first = await backfillSchedule(h.ctx, "every-second", { from, to }, actor);
    expect([first.fireTimes, first.submitted, first.skipped, first.alreadyRecorded]).toEqual([5, 5, 0, 0]);
    expect(first.runs.map((r) => [r.trigger, r.status])).toEqual(Array.from({ length: 5 }, () => ["backfill", "submitted"]));
    const again = await backfillSchedule(h.ctx, "every-second", { from, to }, actor);
    expect([again.submitted, again.alreadyRecorded]).toEqual([0, 5]);
    expect(await tasks()).toHaveLength(5);
  });

  it.each([
    ["skip", ["submitted", "skipped", "skipped", "skipped"], 1],
    ["buffer_one", ["submitted", "buffered", "skipped", "skipped"], 1],
    ["cancel_other", ["skipped", "skipped", "skipped", "submitted"], 1],
  ] as const)("backfill with %s applies it across the range", async (overlap, statuses, taskCount) => {
    await seedPool(h.ctx, "web", 0);
    await make({ cron: "0 * * * *" });
    h.clock.advance(86_400);
    const result = await backfillSchedule(h.ctx, "every-second", { from: new Date("2026-01-01T01:00:00Z"), to: new Date("2026-01-01T04:00:00Z"), overlap }, actor);
    expect(result.runs.map((r) => r.status)).toEqual(statuses);
    expect((await tasks()).filter((t) => t.status !== "cancelled")).toHaveLength(taskCount);
  });

  it("refuses a backfill range that is in the future, empty or too large, storing nothing", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ cron: "0 0 * * *" });
    h.clock.advance(10 * 86_400);
    const refused = async (range: { from: Date; to: Date }) =>
      backfillSchedule(h.ctx, "every-second", range, actor).then(
        () => null,
        (e: InvalidScheduleError) => e.field,
      );
    expect(await refused({ from: new Date("2026-01-02T00:00:00Z"), to: new Date("2026-02-01T00:00:00Z") })).toBe("to");
    expect(await refused({ from: new Date("2026-01-02T01:00:00Z"), to: new Date("2026-01-02T02:00:00Z") })).toBe("from");
    expect(await refused({ from: new Date("2026-01-03T00:00:00Z"), to: new Date("2026-01-02T00:00:00Z") })).toBe("to");
    expect(await h.ctx.prisma.scheduleRun.count()).toBe(0);
  });

  it("pauses itself after N consecutive failed tasks, with a note, and a success resets the count", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    await make({ overlap: "allow_all", pauseAfterFailures: 2 });
    const finishLast = async (status: "succeeded" | "failed") => {
      const run = (await runsOf()).at(-1)!;
      await reportTask(h.ctx, { taskId: run.taskId!, status });
    };
    await passAfter(1);
    await finishLast("failed");
    await passAfter(1);
    await finishLast("succeeded");
    await passAfter(1);
    await finishLast("failed");
    await passAfter(1);
    expect(await getSchedule(h.ctx, "every-second")).toMatchObject({ consecutiveFailures: 1, paused: false });
    await finishLast("failed");
    await passAfter(0);
    const paused = await getSchedule(h.ctx, "every-second");
    expect(paused).toMatchObject({ consecutiveFailures: 2, paused: true, pausedBy: "berth", pauseNote: "paused after 2 consecutive failed runs" });
    expect((await runsOf()).map((r) => r.outcome)).toEqual(["failed", "succeeded", "failed", "failed"]);
    // Paused: no more fire times.
    await passAfter(5);
    expect(await runsOf()).toHaveLength(4);
  });

  it("pause with a note stops it; resume fires from then on without running what passed while paused", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "allow_all" });
    await passAfter(1);
    const paused = await pauseSchedule(h.ctx, "every-second", { who: "ops", note: "db maintenance" });
    expect(paused).toMatchObject({ paused: true, pausedBy: "ops", pauseNote: "db maintenance" });
    expect(paused.pausedAt).toEqual(h.ctx.now());
    expect(nextFireTimes(paused, h.ctx.now())).toEqual([]);
    await passAfter(5);
    const resumed = await resumeSchedule(h.ctx, "every-second");
    expect(resumed).toMatchObject({ paused: false, pausedBy: null, pauseNote: null });
    await passAfter(1);
    expect((await runsOf()).map((r) => sec(r.fireAt))).toEqual([1, 7]);
  });

  it("stops after maxRuns scheduled tasks; manual runs do not count", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "allow_all", maxRuns: 2 });
    await passAfter(1);
    await triggerSchedule(h.ctx, "every-second", actor);
    for (let i = 0; i < 4; i++) await passAfter(1);
    expect((await runsOf()).map((r) => r.trigger)).toEqual(["schedule", "manual", "schedule"]);
    expect(nextFireTimes(await getSchedule(h.ctx, "every-second"), h.ctx.now())).toEqual([]);
  });

  it("trigger runs it once now with its overlap policy: submitted when idle, skipped while the previous task is active", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ cron: "0 0 * * *" });
    const first = await triggerSchedule(h.ctx, "every-second", actor);
    expect(first).toMatchObject({ trigger: "manual", status: "submitted" });
    expect(first.taskId).not.toBeNull();
    h.clock.advance(1);
    expect(await triggerSchedule(h.ctx, "every-second", actor)).toMatchObject({ status: "skipped", taskId: null });
  });

  it("a run claimed by a dispatcher that died before submitting is submitted once by the next holder, and linked if its task exists", async () => {
    await seedPool(h.ctx, "web", 0);
    const schedule = await make({ overlap: "allow_all" });
    h.clock.advance(2);
    // Two fire times claimed under fencing token 5 by a replica that then died: one before its
    // task was created, one after (the task exists but the run was never linked).
    const claimed = { scheduleId: schedule.id, trigger: "schedule", status: "pending" as const, replica: "dead", fencingToken: "5", claimedAt: h.ctx.now() };
    await h.ctx.prisma.scheduleRun.createMany({
      data: [1, 2].map((s) => ({ ...claimed, fireAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s)), dueAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s)) })),
    });
    const orphanTask = await h.ctx.prisma.task.create({
      data: { poolId: schedule.poolId, type: "plan", payload: { n: 1 }, idempotencyKey: fireTimeKey(schedule.id, new Date(Date.UTC(2026, 0, 1, 0, 0, 2))) },
    });
    await h.ctx.prisma.schedule.update({ where: { id: schedule.id }, data: { servedUntil: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)) } });
    // A holder with an older token leaves them alone: it lost the lock to the one that claimed them.
    expect((await passAfter(0, 4)).recovered).toBe(0);
    expect((await passAfter(0, 6)).recovered).toBe(2);
    const runs = await runsOf();
    expect(runs.map((r) => [sec(r.fireAt), r.status])).toEqual([
      [1, "submitted"],
      [2, "submitted"],
    ]);
    expect(runs[1]!.taskId).toBe(orphanTask.id);
    expect(await tasks()).toHaveLength(2);
  });

  it("an abandoned claim found past the catch-up window is recorded as missed", async () => {
    await seedPool(h.ctx, "web", 0);
    const schedule = await make({ catchupWindowSeconds: 5 });
    await h.ctx.prisma.scheduleRun.create({
      data: { scheduleId: schedule.id, fireAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 1)), dueAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 1)), trigger: "schedule", status: "pending", replica: "dead", fencingToken: "5", claimedAt: h.ctx.now() },
    });
    await h.ctx.prisma.schedule.update({ where: { id: schedule.id }, data: { servedUntil: new Date(Date.UTC(2026, 0, 1, 0, 0, 20)) } });
    await passAfter(20, 6);
    expect((await runsOf()).map((r) => r.status)).toEqual(["missed"]);
    expect(await tasks()).toHaveLength(0);
  });

  it("a change made between passes counts at the next pass; a new expression does not catch up on the old one", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "allow_all" });
    await passAfter(1);
    await updateSchedule(h.ctx, "every-second", { payload: { n: 2 } });
    await passAfter(1);
    expect((await tasks()).map((t) => t.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    h.clock.advance(30);
    await updateSchedule(h.ctx, "every-second", { cron: "*/10 * * * * *" });
    await passAfter(10);
    expect((await runsOf()).map((r) => sec(r.fireAt))).toEqual([1, 2, 40]);
  });

  it("refuses bad definitions with an error naming the field, and stores nothing", async () => {
    await seedPool(h.ctx, "web", 0);
    const fieldOf = (input: Partial<ScheduleInput>) =>
      make(input).then(
        () => null,
        (e: InvalidScheduleError) => e.field,
      );
    expect(await fieldOf({ cron: "*/61 * * * *" })).toBe("cron");
    expect(await fieldOf({ timeZone: "Europe/Atlantis" })).toBe("timeZone");
    expect(await fieldOf({ pool: "nope" })).toBe("pool");
    expect(await fieldOf({ taskType: "" })).toBe("taskType");
    expect(await fieldOf({ startAt: new Date("2026-02-01T00:00:00.200Z"), endAt: new Date("2026-02-01T00:00:00.700Z") })).toBe("endAt");
    expect(await h.ctx.prisma.schedule.count()).toBe(0);
    await make();
    await expect(make()).rejects.toBeInstanceOf(ScheduleNameTakenError);
    await expect(updateSchedule(h.ctx, "every-second", { timeZone: "Nowhere/Else" })).rejects.toMatchObject({ field: "timeZone" });
    expect((await getSchedule(h.ctx, "every-second")).timeZone).toBe("UTC");
  });

  it("history pages newest first with a cursor, and pruning keeps runs whose task has not ended", async () => {
    await seedPool(h.ctx, "web", 0);
    await make({ overlap: "skip" });
    for (let i = 0; i < 5; i++) await passAfter(1);
    const page1 = await listScheduleRuns(h.ctx, { schedule: "every-second", first: 2 });
    expect(page1.runs.map((r) => sec(r.fireAt))).toEqual([5, 4]);
    const page2 = await listScheduleRuns(h.ctx, { schedule: "every-second", first: 10, after: page1.pageInfo.endCursor });
    expect(page2.runs.map((r) => sec(r.fireAt))).toEqual([3, 2, 1]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const schedule = await getSchedule(h.ctx, "every-second");
    expect(sec((await latestRuns(h.ctx, [schedule.id, "00000000-0000-4000-8000-000000000000"])).get(schedule.id)!.fireAt)).toBe(5);
    expect(await pruneScheduleRuns(h.ctx, 2)).toBe(2);
    // Fire time 1 holds the active task: kept although it is the oldest.
    expect((await runsOf()).map((r) => sec(r.fireAt))).toEqual([1, 4, 5]);
  });
});
