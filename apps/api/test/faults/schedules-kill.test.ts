// Three API replicas in cluster mode share PostgreSQL and Redis (under a key prefix of their
// own). Schedules fire every second for 30 s; in the middle the replica holding the
// dispatch-schedules lock is killed with SIGKILL during its dispatch pass, and started again a
// few seconds later. The dead replica's lock holds dispatch back until it expires (10 s), longer
// than the schedules' 4 s catch-up window: the fire times of that gap are either caught up, once,
// or recorded as missed.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeys } from "../../../../packages/core/test/locks/redis-keys.js";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../../packages/core/test/support/services.js";
import { Fleet, replicaEnv, type Replica } from "./support/fleet.js";
import { withDb } from "./support/invariants.js";

const POOL = "scheduled";
const SCHEDULES = 12;
const FIRE_SECONDS = 30;
const WINDOW_SECONDS = 4;
const JOB = "dispatch-schedules";

interface RunRow {
  schedule: string;
  payload: { schedule: number; v?: number } | null;
  fireAt: Date;
  dueAt: Date;
  status: string;
  trigger: string;
  replica: string;
  taskId: string | null;
  claimedAt: Date;
  submittedAt: Date | null;
}

describe.skipIf(!postgresAvailable || !redisAvailable)("schedules on three replicas, with the dispatching replica killed mid-pass", () => {
  const token = `sched-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-sched-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  let dir = "";
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let redis: Redis | undefined;

  let startAt: Date;
  let endAt: Date;
  let victim: Replica;
  let restarted: Replica;
  let killAt = 0;
  let lockAfterKill: string | null = null;
  let runs: RunRow[] = [];
  let tasks: { id: string; idempotencyKey: string | null }[] = [];
  let victimDispatchRuns: { status: string; scheduledAt: Date }[] = [];
  let dispatchers = new Set<string>();
  let updateSentAt = 0;
  let updateAnsweredAt = 0;

  const gql = async (replica: Replica, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${replica.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { data?: Record<string, { __typename: string; message?: string }>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    const result = Object.values(body.data!)[0]!;
    if (!result.__typename.endsWith("Success")) throw new Error(`${result.__typename}: ${result.message}`);
    return result;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-sched-kill-"));
    db = await freshPostgres();
    redis = new Redis(REDIS_URL);
    const env = (name: string) =>
      replicaEnv(name, {
        dir,
        token,
        databaseUrl: db!.url,
        kubeconfig: "",
        redis: { url: REDIS_URL, prefix },
        // No pods: the tasks stay pending, which is all the schedules need.
        extra: { POD_RUNTIME: "local", RECONCILE_SCHEDULE: "*/5 * * * * *" },
      });
    const replicas = await Promise.all(["replica-a", "replica-b", "replica-c"].map((name) => fleet.start(name, env(name))));
    const [a] = replicas;

    await gql(a!, `mutation($input: CreatePoolInput!) { createPool(input: $input) { __typename ... on Error { message } } }`, {
      input: { name: POOL, minPods: 0, maxPods: 1, autoscale: false },
    });
    // Fire times from the next whole second but two, for FIRE_SECONDS seconds, both ends included.
    startAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000);
    endAt = new Date(startAt.getTime() + (FIRE_SECONDS - 1) * 1000);
    for (let i = 0; i < SCHEDULES; i++) {
      await gql(a!, `mutation($input: CreateScheduleInput!) { createSchedule(input: $input) { __typename ... on Error { message } } }`, {
        input: {
          name: `every-second-${i}`,
          cron: "* * * * * *",
          pool: POOL,
          taskType: "plan",
          payload: { schedule: i },
          overlap: "allow_all",
          catchupWindowSeconds: WINDOW_SECONDS,
          startAt: startAt.toISOString(),
          endAt: endAt.toISOString(),
        },
      });
    }

    // Four seconds in, one schedule's payload changes through replica B: every replica that
    // dispatches from then on uses it, without a restart.
    await sleep(startAt.getTime() + 4000 - Date.now());
    updateSentAt = Date.now();
    await gql(replicas[1]!, `mutation($input: UpdateScheduleInput!) { updateSchedule(name: "every-second-0", input: $input) { __typename ... on Error { message } } }`, {
      input: { payload: { schedule: 0, v: 2 } },
    });
    updateAnsweredAt = Date.now();

    // Eight seconds in, kill whichever replica holds the dispatch lock at that moment: the lock
    // exists only while a pass runs, so its holder is in the middle of one. A lock taken 15 ms
    // ago or more belongs to a pass past its first writes (its run row) and busy submitting.
    await sleep(startAt.getTime() + 8000 - Date.now());
    const lockKey = `${prefix}lock:cron:${JOB}`;
    const deadline = Date.now() + 10_000;
    while (!victim) {
      const value = await redis.get(lockKey);
      const [, , acquiredMs, holderName] = /^(\d+):(\d+):(.*)$/.exec(value ?? "") ?? [];
      const holder = Date.now() - Number(acquiredMs) >= 15 ? replicas.find((r) => r.name === holderName) : undefined;
      if (holder) {
        await holder.kill9();
        killAt = Date.now();
        victim = holder;
        lockAfterKill = await redis.get(lockKey);
      } else if (Date.now() > deadline) {
        throw new Error("no replica was seen holding the dispatch lock for 15 ms");
      }
    }
    await sleep(3000);
    restarted = await fleet.start(victim.name, env(victim.name));

    // Until every fire time has its run and none is still being submitted.
    const settleBy = endAt.getTime() + 30_000;
    for (;;) {
      const open = await withDb(db.url, async (c) => {
        const r = await c.query(`SELECT count(*)::int AS runs, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM "ScheduleRun"`);
        return r.rows[0] as { runs: number; pending: number };
      });
      if ((open.runs >= SCHEDULES * FIRE_SECONDS && open.pending === 0) || Date.now() > settleBy) break;
      await sleep(500);
    }
    await withDb(db.url, async (c) => {
      runs = (
        await c.query<RunRow>(`
          SELECT s.name AS schedule, t.payload, r."fireAt", r."dueAt", r.status::text AS status, r.trigger, r.replica, r."taskId", r."claimedAt", r."submittedAt"
          FROM "ScheduleRun" r JOIN "Schedule" s ON s.id = r."scheduleId" LEFT JOIN "Task" t ON t.id = r."taskId" ORDER BY s.name, r."fireAt"`)
      ).rows;
      tasks = (await c.query(`SELECT t.id, t."idempotencyKey" FROM "Task" t JOIN "Pool" p ON p.id = t."poolId" WHERE p.name = $1`, [POOL])).rows;
      victimDispatchRuns = (await c.query(`SELECT status::text AS status, "scheduledAt" FROM "CronRun" WHERE job = $1 AND replica = $2 ORDER BY "scheduledAt"`, [JOB, victim.name])).rows;
      dispatchers = new Set((await c.query(`SELECT DISTINCT replica FROM "CronRun" WHERE job = $1 AND status = 'succeeded'`, [JOB])).rows.map((r) => r.replica as string));
    });
    const late = runs.filter((r) => r.status === "submitted" && r.trigger === "catch_up").length;
    const onTime = runs.filter((r) => r.trigger === "schedule" && r.submittedAt).map((r) => r.submittedAt!.getTime() - r.dueAt.getTime()).sort((x, y) => x - y);
    console.info(
      `schedules-kill: killed ${victim.name} ${killAt - startAt.getTime()} ms after the first fire time; ${runs.length} runs: ` +
        `${runs.filter((r) => r.status === "submitted").length} submitted (${late} caught up late), ${runs.filter((r) => r.status === "missed").length} missed; ` +
        `${tasks.length} tasks; on-time fire delay p50 ${onTime[Math.floor(onTime.length / 2)]} ms, max ${onTime.at(-1)} ms; dispatched by ${[...dispatchers].join(", ")}`,
    );
  }, 240_000);

  afterAll(async () => {
    await fleet.killAll();
    if (redis) {
      await deleteKeys(redis, prefix).catch(() => {});
      redis.disconnect();
    }
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the victim was killed while it held the dispatch lock, in a dispatch run it never finished", () => {
    expect(victim.alive()).toBe(false);
    expect(lockAfterKill).toMatch(new RegExp(`:${victim.name}$`));
    // Its last run before the kill (the restarted process has the same name and runs of its own later).
    const last = victimDispatchRuns.filter((r) => r.scheduledAt.getTime() <= killAt).at(-1);
    expect(last?.status).toMatch(/^(running|failed)$/);
  });

  it("every fire time of every schedule has exactly one run, submitted or missed, and nothing outside the window", () => {
    expect(runs).toHaveLength(SCHEDULES * FIRE_SECONDS);
    for (let i = 0; i < SCHEDULES; i++) {
      const mine = runs.filter((r) => r.schedule === `every-second-${i}`);
      expect(mine.map((r) => r.fireAt.getTime())).toEqual(Array.from({ length: FIRE_SECONDS }, (_, s) => startAt.getTime() + s * 1000));
    }
    expect(new Set(runs.map((r) => r.status))).toEqual(new Set(["submitted", "missed"]));
  });

  it("each submitted fire time has exactly one task, keyed by its schedule and fire time, and there is no other task", () => {
    const submitted = runs.filter((r) => r.status === "submitted");
    expect(submitted.every((r) => r.taskId !== null)).toBe(true);
    expect(new Set(submitted.map((r) => r.taskId)).size).toBe(submitted.length);
    expect(tasks).toHaveLength(submitted.length);
    const keys = new Set(tasks.map((t) => t.idempotencyKey));
    expect(keys.size).toBe(tasks.length);
    expect(new Set(tasks.map((t) => t.id))).toEqual(new Set(submitted.map((r) => r.taskId)));
  });

  it("fire times of the outage inside the catch-up window ran late exactly once; those before it were recorded as missed", () => {
    const missed = runs.filter((r) => r.status === "missed");
    const caughtUp = runs.filter((r) => r.status === "submitted" && r.trigger === "catch_up");
    expect(missed.length).toBeGreaterThanOrEqual(SCHEDULES);
    expect(caughtUp.length).toBeGreaterThanOrEqual(SCHEDULES);
    // The rule itself: missed iff older than the window when a replica dealt with it.
    for (const r of missed) expect(r.claimedAt.getTime() - r.dueAt.getTime()).toBeGreaterThan(WINDOW_SECONDS * 1000);
    for (const r of runs.filter((x) => x.status === "submitted")) expect(r.claimedAt.getTime() - r.dueAt.getTime()).toBeLessThanOrEqual(WINDOW_SECONDS * 1000);
    // The outage's misses: fire times after the kill (a pass may have been running a moment before it).
    expect(missed.filter((r) => r.fireAt.getTime() > killAt - 2000).length).toBeGreaterThanOrEqual(SCHEDULES);
    // Per schedule, the outage's fire times: first the missed ones, one after another, then the
    // caught-up ones. (A machine loaded enough to stall a later pass past the window would record
    // more misses later on, by the rule above.)
    for (let i = 0; i < SCHEDULES; i++) {
      const mine = runs.filter((r) => r.schedule === `every-second-${i}`);
      let last = mine.findIndex((r) => r.status === "missed" && r.fireAt.getTime() > killAt - 2000);
      expect(last).toBeGreaterThan(0);
      while (mine[last + 1]?.status === "missed") last++;
      expect(mine[last + 1]).toMatchObject({ status: "submitted", trigger: "catch_up" });
    }
  });

  it("a change made through one replica was used by every replica that dispatched after it", () => {
    const changed = runs.filter((r) => r.schedule === "every-second-0" && r.status === "submitted");
    const before = changed.filter((r) => r.claimedAt.getTime() < updateSentAt);
    const after = changed.filter((r) => r.claimedAt.getTime() > updateAnsweredAt);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.every((r) => r.payload?.v === undefined)).toBe(true);
    expect(after.map((r) => r.payload?.v)).toEqual(after.map(() => 2));
    expect(new Set(after.map((r) => r.replica)).size).toBeGreaterThanOrEqual(2);
  });

  it("the surviving replicas took over dispatch, and the restarted replica is serving again", async () => {
    expect([...dispatchers].filter((d) => d !== victim.name).length).toBeGreaterThanOrEqual(1);
    expect(restarted.alive()).toBe(true);
    expect((await fetch(`${restarted.url}/readyz`)).status).toBe(200);
  });
});
