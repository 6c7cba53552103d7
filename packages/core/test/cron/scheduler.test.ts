import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CronJobAlreadyRegisteredError,
  CronJobNotFoundError,
  InvalidCronExpressionError,
  createCronScheduler,
  defineCronJob,
  type CronContext,
  type CronJobDefinition,
  type CronScheduler,
} from "../../src/cron/index.js";
import { createMemoryEventBus } from "../../src/events/index.js";
import { createMemoryLockService, createMemoryLockStore, type LockService, type MemoryLockStore } from "../../src/locks/index.js";
import { backends, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { metricValue } from "../locks/metric-value.js";
import { gate, manualClock, recordCronEvents } from "./harness.js";

const SECOND = 1000;

describe.each(backends)("cron scheduler on %s", (backend) => {
  let t: TestDatabase;
  const schedulers: CronScheduler[] = [];
  beforeAll(async () => {
    t = await openTestDatabase(backend);
  });
  // A failed assertion must not leave a job blocked on its gate: stop() below would wait for it forever.
  const gates: ReturnType<typeof gate>[] = [];
  const held = () => {
    const g = gate();
    gates.push(g);
    return g;
  };
  afterEach(() => {
    for (const g of gates.splice(0)) g.open();
  });
  afterAll(async () => {
    for (const s of schedulers) await s.stop();
    await t.drop();
  });

  const events = createMemoryEventBus();

  /** One replica: its own scheduler, all replicas sharing the database, the lock store and the clock. */
  function replica(replicaId: string, time: ReturnType<typeof manualClock>, options: { clustered?: boolean; store?: MemoryLockStore; locks?: LockService } = {}) {
    const locks = options.locks ?? createMemoryLockService({ replicaId, clock: time.clock, store: options.store ?? createMemoryLockStore() });
    const scheduler = createCronScheduler({
      prisma: t.db.prisma,
      locks,
      events,
      cluster: { clustered: options.clustered ?? true, replicaId },
      clock: time.clock,
      historyKeep: 3,
      onError: (e) => {
        throw e;
      },
    });
    schedulers.push(scheduler);
    return scheduler;
  }

  /** A job that counts its runs per fire time, as a side effect outside the run history. */
  function countingJob(name: string, extra: Partial<Parameters<typeof defineCronJob>[0]> = {}) {
    const ranAt = new Map<string, number>();
    const contexts: CronContext[] = [];
    const job = defineCronJob({
      name,
      schedule: "* * * * * *",
      run: (ctx) => {
        contexts.push(ctx);
        const k = ctx.scheduledAt.toISOString();
        ranAt.set(k, (ranAt.get(k) ?? 0) + 1);
      },
      ...extra,
    });
    return { job, ranAt, contexts };
  }

  async function tickAll(...replicas: CronScheduler[]) {
    await Promise.all(replicas.map((r) => r.tick()));
    await Promise.all(replicas.map((r) => r.idle()));
  }

  const runsOf = (job: string) => t.db.prisma.cronRun.findMany({ where: { job }, orderBy: { scheduledAt: "asc" } });

  it("local mode runs each fire time directly, without a lock, and records it with start and end events", async () => {
    const time = manualClock();
    const noLocks: LockService = {
      replicaId: "solo",
      acquire: () => Promise.reject(new Error("local mode must not lock")),
      list: async () => [],
      close: async () => {},
    };
    const solo = replica("solo", time, { clustered: false, locks: noLocks });
    const { job, contexts } = countingJob(`local-job-${backend}`);
    await solo.register(job);
    const recorded = recordCronEvents(events);
    await tickAll(solo);
    expect(await runsOf(`local-job-${backend}`)).toEqual([]);
    time.advance(600);
    await tickAll(solo);
    await recorded.stop();

    const [run, ...rest] = await runsOf(`local-job-${backend}`);
    expect(rest).toEqual([]);
    expect(run).toMatchObject({ replica: "solo", scheduledAt: new Date("2030-01-01T00:00:01Z"), trigger: "schedule", status: "succeeded", fencingToken: null, durationMs: 0, error: null });
    expect(contexts).toEqual([expect.objectContaining({ fencingToken: null, replicaId: "solo", trigger: "schedule", scheduledAt: new Date("2030-01-01T00:00:01Z") })]);
    expect(contexts[0]!.signal.aborted).toBe(false);
    expect(recorded.seen).toEqual([
      { id: run!.id, job: `local-job-${backend}`, status: "running", durationMs: null },
      { id: run!.id, job: `local-job-${backend}`, status: "succeeded", durationMs: 0 },
    ]);
  });

  it("cluster mode: replicas ticking the same fire times run each exactly once and count the losers", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("r1", time, { store });
    const r2 = replica("r2", time, { store });
    const r3 = replica("r3", time, { store });
    const { job, ranAt, contexts } = countingJob(`shared-job-${backend}`);
    for (const r of [r1, r2, r3]) await r.register(job);
    const failuresBefore = await metricValue("cron_task_lock_failures_total", { task: `shared-job-${backend}` });
    await tickAll(r1, r2, r3);
    for (let i = 0; i < 10; i++) {
      time.advance(SECOND);
      await tickAll(r1, r2, r3);
    }
    const runs = await runsOf(`shared-job-${backend}`);
    expect(runs.map((r) => r.scheduledAt.toISOString())).toEqual(Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2030, 0, 1, 0, 0, i + 1)).toISOString()));
    expect([...ranAt.values()]).toEqual(Array(10).fill(1));
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    // Two losers per fire time, whether they found the lock held or the row already written.
    expect((await metricValue("cron_task_lock_failures_total", { task: `shared-job-${backend}` })) - failuresBefore).toBe(20);
    const tokens = contexts.map((c) => c.fencingToken!);
    expect(tokens.every((tk, i) => i === 0 || tk > tokens[i - 1]!)).toBe(true);
    expect(runs.map((r) => r.fencingToken)).toEqual(tokens.map(String));
  });

  it("the run row is the last guard: a replica that gets the free lock after the winner finished does not run the fire time again", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("g1", time, { store });
    const r2 = replica("g2", time, { store });
    const { job, ranAt } = countingJob(`guarded-job-${backend}`);
    await r1.register(job);
    await r2.register(job);
    await tickAll(r1, r2);
    time.advance(SECOND);
    await tickAll(r1);
    expect(store.locks.size).toBe(0);
    await tickAll(r2);
    expect((await runsOf(`guarded-job-${backend}`)).map((r) => r.replica)).toEqual(["g1"]);
    expect([...ranAt.values()]).toEqual([1]);
    expect(await metricValue("cron_task_lock_failures_total", { task: `guarded-job-${backend}`, replica: "g2" })).toBe(1);
  });

  it("overlap skip: a fire time that comes while the previous run still runs is not run, only counted", async () => {
    const time = manualClock();
    const r = replica("s1", time);
    const hold = held();
    const { job, ranAt } = countingJob(`skip-job-${backend}`, { overlap: "skip" });
    await r.register(defineCronJob({ ...job, run: async (ctx) => (await job.run(ctx), ctx.scheduledAt.getUTCSeconds() === 1 && (await hold.opened)) }));
    await r.tick();
    time.advance(SECOND);
    await r.tick();
    await vi.waitFor(() => expect(ranAt.size).toBe(1));
    time.advance(SECOND);
    await r.tick();
    expect(await metricValue("cron_task_executions_total", { task: `skip-job-${backend}`, status: "skipped" })).toBe(1);
    hold.open();
    await r.idle();
    time.advance(SECOND);
    await tickAll(r);
    expect([...ranAt.keys()]).toEqual(["2030-01-01T00:00:01.000Z", "2030-01-01T00:00:03.000Z"]);
    expect((await runsOf(`skip-job-${backend}`)).map((x) => x.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("overlap wait: the next fire time runs once the previous run finishes; further ones meanwhile are skipped", async () => {
    const time = manualClock();
    const r = replica("w1", time);
    const hold = held();
    const { job, ranAt } = countingJob(`wait-job-${backend}`, { overlap: "wait" });
    await r.register(defineCronJob({ ...job, run: async (ctx) => (await job.run(ctx), ctx.scheduledAt.getUTCSeconds() === 1 && (await hold.opened)) }));
    await r.tick();
    time.advance(SECOND);
    await r.tick();
    // The run starts in the background: wait until it is inside the job before the next fire times come.
    await vi.waitFor(() => expect(ranAt.size).toBe(1));
    for (let i = 0; i < 2; i++) {
      time.advance(SECOND);
      await r.tick();
    }
    expect([...ranAt.keys()]).toEqual(["2030-01-01T00:00:01.000Z"]);
    hold.open();
    await r.idle();
    expect([...ranAt.keys()]).toEqual(["2030-01-01T00:00:01.000Z", "2030-01-01T00:00:02.000Z"]);
    expect(await metricValue("cron_task_executions_total", { task: `wait-job-${backend}`, status: "skipped" })).toBe(1);
  });

  it("overlap wait across replicas: a fire time that comes while another replica still runs the job runs there once it ends", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("ow1", time, { store });
    const r2 = replica("ow2", time, { store });
    const hold = held();
    const { job, ranAt } = countingJob(`cross-wait-job-${backend}`, { overlap: "wait" });
    const blocking = defineCronJob({ ...job, run: async (ctx) => (await job.run(ctx), ctx.scheduledAt.getUTCSeconds() === 1 && (await hold.opened)) });
    await r1.register(blocking);
    await r2.register(blocking);
    await Promise.all([r1.tick(), r2.tick()]);
    time.advance(SECOND);
    await r1.tick();
    await vi.waitFor(() => expect(ranAt.size).toBe(1));
    time.advance(SECOND);
    await r2.tick();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([...ranAt.keys()]).toEqual(["2030-01-01T00:00:01.000Z"]);
    hold.open();
    await r1.idle();
    await r2.idle();
    const runs = await runsOf(`cross-wait-job-${backend}`);
    expect(runs.map((r) => [r.scheduledAt.toISOString(), r.replica, r.status])).toEqual([
      ["2030-01-01T00:00:01.000Z", "ow1", "succeeded"],
      ["2030-01-01T00:00:02.000Z", "ow2", "succeeded"],
    ]);
  });

  it("a fire time missed while every replica was down is recorded once as missed, and not run", async () => {
    const time = manualClock("2030-01-01T00:00:30Z");
    const job = countingJob(`missed-job-${backend}`, { schedule: "0 * * * * *" });
    const before = replica("m0", time);
    await before.register(job.job);
    await before.tick();
    time.set("2030-01-01T00:01:00.010Z");
    await tickAll(before);
    await before.stop();

    time.set("2030-01-01T00:11:30Z");
    const store = createMemoryLockStore();
    const a = replica("m1", time, { store });
    const b = replica("m2", time, { store });
    await a.register(job.job);
    await b.register(job.job);
    const recorded = recordCronEvents(events);
    await tickAll(a, b);
    await tickAll(a, b);
    await recorded.stop();

    const runs = await runsOf(`missed-job-${backend}`);
    expect(runs.map((r) => [r.scheduledAt.toISOString(), r.status, r.trigger])).toEqual([
      ["2030-01-01T00:01:00.000Z", "succeeded", "schedule"],
      ["2030-01-01T00:02:00.000Z", "missed", "catch_up"],
    ]);
    expect(runs[1]!.error).toContain("10 fire time(s) from 2030-01-01T00:02:00.000Z to 2030-01-01T00:11:00.000Z");
    expect([...job.ranAt.keys()]).toEqual(["2030-01-01T00:01:00.000Z"]);
    expect(recorded.seen).toEqual([{ id: runs[1]!.id, job: `missed-job-${backend}`, status: "missed", durationMs: null }]);

    time.set("2030-01-01T00:12:00.005Z");
    await tickAll(a, b);
    expect((await runsOf(`missed-job-${backend}`)).map((r) => r.status)).toEqual(["succeeded", "missed", "succeeded"]);

    // A replica joining a cluster that is up finds nothing missed.
    const c = replica("m3", time, { store });
    await c.register(job.job);
    time.set("2030-01-01T00:12:20Z");
    await tickAll(c);
    expect(await t.db.prisma.cronRun.count({ where: { job: `missed-job-${backend}`, status: "missed" } })).toBe(1);
  });

  it("pause: a paused job fires on no replica; resume restores it; both are stored", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("p1", time, { store });
    const r2 = replica("p2", time, { store });
    const { job, ranAt } = countingJob(`pause-job-${backend}`);
    await r1.register(job);
    await r2.register(job);
    await tickAll(r1, r2);
    await r1.pause(`pause-job-${backend}`);
    expect(await t.db.prisma.cronJob.findUnique({ where: { name: `pause-job-${backend}` } })).toMatchObject({ paused: true });
    for (let i = 0; i < 3; i++) {
      time.advance(SECOND);
      await tickAll(r1, r2);
    }
    expect(ranAt.size).toBe(0);
    const listed = (await r2.listJobs()).find((j) => j.name === `pause-job-${backend}`);
    expect(listed).toMatchObject({ paused: true, nextRunAt: null, lastRun: null, schedule: "* * * * * *", overlap: "skip" });

    await r2.resume(`pause-job-${backend}`);
    time.advance(SECOND);
    await tickAll(r1, r2);
    expect([...ranAt.entries()]).toEqual([["2030-01-01T00:00:04.000Z", 1]]);
    const resumed = (await r1.listJobs()).find((j) => j.name === `pause-job-${backend}`);
    expect(resumed).toMatchObject({ paused: false, nextRunAt: new Date("2030-01-01T00:00:05Z"), lastRun: expect.objectContaining({ status: "succeeded" }) });

    // A replica that starts later obeys the stored state.
    await r1.pause(`pause-job-${backend}`);
    const late = replica("p3", time, { store });
    await late.register(job);
    await tickAll(late);
    time.advance(SECOND);
    await tickAll(late);
    expect(ranAt.size).toBe(1);
  });

  it("trigger-now runs the job once across replicas, even when paused, and returns the run", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("t1", time, { store });
    const r2 = replica("t2", time, { store });
    const { job, ranAt, contexts } = countingJob(`trigger-job-${backend}`, { schedule: "0 0 0 1 1 *" });
    await r1.register(job);
    await r2.register(job);
    await r1.pause(`trigger-job-${backend}`);
    const [run] = await Promise.all([r1.trigger(`trigger-job-${backend}`), r2.tick(), r2.tick()]);
    await tickAll(r1, r2);
    await tickAll(r1, r2);
    expect(run).toMatchObject({ job: `trigger-job-${backend}`, trigger: "manual", scheduledAt: time.clock() });
    const runs = await runsOf(`trigger-job-${backend}`);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: run!.id, status: "succeeded", trigger: "manual" });
    expect([...ranAt.values()]).toEqual([1]);
    expect(contexts[0]!.trigger).toBe("manual");
    expect(await t.db.prisma.cronJob.findUnique({ where: { name: `trigger-job-${backend}` } })).toMatchObject({ triggerRequestedAt: null, paused: true });

    await expect(r1.trigger("no-such-job")).rejects.toBeInstanceOf(CronJobNotFoundError);
  });

  it("a trigger stored by another process runs on the next tick of one replica", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r1 = replica("q1", time, { store });
    const r2 = replica("q2", time, { store });
    const { job, ranAt } = countingJob(`requested-job-${backend}`, { schedule: "0 0 0 1 1 *" });
    await r1.register(job);
    await r2.register(job);
    await t.db.prisma.cronJob.update({ where: { name: `requested-job-${backend}` }, data: { triggerRequestedAt: new Date("2030-01-01T00:00:00.250Z") } });
    await tickAll(r1, r2);
    await tickAll(r1, r2);
    expect((await runsOf(`requested-job-${backend}`)).map((r) => [r.trigger, r.scheduledAt.toISOString()])).toEqual([["manual", "2030-01-01T00:00:00.250Z"]]);
    expect(ranAt.size).toBe(1);
  });

  it("a bad definition is a typed error and stores nothing; a name registers once; unknown names are not found", async () => {
    const time = manualClock();
    const r = replica("v1", time);
    const count = await t.db.prisma.cronJob.count();
    const valid = defineCronJob({ name: `valid-job-${backend}`, schedule: "* * * * *", lockTtl: 4500, overlap: "wait", run: () => {} });
    const forged = { ...valid, name: "forged-job", schedule: "99 * * * *" } as CronJobDefinition;
    await expect(r.register(forged)).rejects.toBeInstanceOf(InvalidCronExpressionError);
    await expect(r.register({ ...valid, name: "forged-tz", timeZone: "Pluto/Base" } as CronJobDefinition)).rejects.toBeInstanceOf(InvalidCronExpressionError);
    expect(() => defineCronJob({ name: "never", schedule: "0 0 31 2 *", run: () => {} })).toThrow(InvalidCronExpressionError);
    expect(await t.db.prisma.cronJob.count()).toBe(count);
    expect(await t.db.prisma.cronJob.findUnique({ where: { name: "forged-job" } })).toBeNull();

    await r.register(valid);
    expect(await t.db.prisma.cronJob.findUnique({ where: { name: valid.name } })).toMatchObject({ schedule: "* * * * *", timeZone: "UTC", lockTtlMs: 4500, overlap: "wait", paused: false });
    await expect(r.register(valid)).rejects.toBeInstanceOf(CronJobAlreadyRegisteredError);
    await expect(r.pause("nope")).rejects.toBeInstanceOf(CronJobNotFoundError);
    await expect(r.resume("nope")).rejects.toMatchObject({ kind: "not_found", job: "nope" });
  });

  it("a failing job is recorded as failed with its error, in events and metrics", async () => {
    const time = manualClock();
    const r = replica("f1", time);
    await r.register(
      defineCronJob({
        name: `failing-job-${backend}`,
        schedule: "* * * * * *",
        run: () => {
          time.advance(250);
          throw new TypeError("upstream said no");
        },
      }),
    );
    const durations = await metricValue("cron_task_duration_seconds", { task: `failing-job-${backend}` }, "cron_task_duration_seconds_count");
    const recorded = recordCronEvents(events);
    await r.tick();
    time.advance(SECOND);
    await tickAll(r);
    await recorded.stop();
    const [run] = await runsOf(`failing-job-${backend}`);
    expect(run).toMatchObject({ status: "failed", error: "TypeError: upstream said no", durationMs: 250 });
    expect(recorded.seen.map((e) => [e.status, e.durationMs])).toEqual([
      ["running", null],
      ["failed", 250],
    ]);
    expect(await metricValue("cron_task_executions_total", { task: `failing-job-${backend}`, replica: "f1", status: "failed" })).toBe(1);
    expect(await metricValue("cron_task_duration_seconds", { task: `failing-job-${backend}` }, "cron_task_duration_seconds_count")).toBe(durations + 1);
    expect(await metricValue("cron_task_duration_seconds", { task: `failing-job-${backend}` }, "cron_task_duration_seconds_sum")).toBeCloseTo(0.25);
  });

  it("stop() waits for a running job and releases its lock", async () => {
    const time = manualClock();
    const store = createMemoryLockStore();
    const r = replica("x1", time, { store });
    const hold = held();
    let finished = false;
    await r.register(
      defineCronJob({
        name: `stopping-job-${backend}`,
        schedule: "* * * * * *",
        run: async () => {
          await hold.opened;
          finished = true;
        },
      }),
    );
    await r.tick();
    time.advance(SECOND);
    await r.tick();
    await vi.waitFor(() => expect([...store.locks.keys()]).toEqual([`cron:stopping-job-${backend}`]));
    const stopping = r.stop();
    setTimeout(hold.open, 50);
    await stopping;
    expect(finished).toBe(true);
    expect(store.locks.size).toBe(0);
    expect((await runsOf(`stopping-job-${backend}`))[0]).toMatchObject({ status: "succeeded" });
  });
});
