// An API replica in cluster mode on a Redis server of this test's own, killed (SIGKILL) and started
// again on the same port, empty, while the cron jobs tick and live subscriptions are open. The
// machine's shared Redis is never touched: other test files use it at the same time.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CronRunUpdated, SlotChanged } from "@berth/core/events";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { postgresAvailable } from "../../../../packages/core/test/support/services.js";
import { Fleet, replicaEnv, type Replica } from "./support/fleet.js";
import { Client, type CallRecord } from "./support/graphql.js";
import { accountForTasks, cronRuns, fireTimesRunTwice, NO_SLOT_VIOLATIONS, slotViolations, withDb, type CronRunRow, type SlotViolations, type TaskAccount } from "./support/invariants.js";
import { startSharedKube, type SharedKube } from "./support/kube.js";
import { PrivateRedis, redisServerInstalled } from "./support/redis-server.js";
import { collectSubscription } from "./support/sse.js";
import { drain, roundTrip, startPodAgents, waitForReadyPods } from "./support/workload.js";

const POOL = "fault-redis";
const RECONCILE = "reconcile-pools";
const OUTAGE_MS = 4000;

type Subscription<T> = Awaited<ReturnType<typeof collectSubscription<T>>>;

describe.skipIf(!postgresAvailable || !redisServerInstalled())("Redis killed and started again under a running API replica", () => {
  const token = `fault-admin-${randomBytes(12).toString("hex")}`;
  const fleet = new Fleet();
  const client = new Client(token, 5000);
  // The mutation sent while Redis is down may wait for it: its own client, with room to wait.
  const patient = new Client(token, 90_000);
  let dir = "";
  let kube: SharedKube | undefined;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let redis: PrivateRedis | undefined;
  let stopAgents = async () => {};
  let cronEvents: Subscription<{ cronRunUpdated: CronRunUpdated }> | undefined;
  let slotEvents: Subscription<{ slotChanged: SlotChanged }> | undefined;

  let api: Replica;
  let killAt = 0;
  let restartAt = 0;
  const acked = new Map<string, string>();
  const duringOutage: CallRecord[] = [];
  let health: { healthz: number; readyz: number; readyzBody: string } | undefined;
  let outageSubmit: { ok: boolean; settledAt: number; error?: string; id?: string } | undefined;
  let readyAgainAt = 0;
  let resumed: CronRunRow | undefined;
  let runsBefore: CronRunRow[] = [];
  let afterRestartTask: { id: string; pod: string } | undefined;
  let finalViolations: SlotViolations;
  let account: TaskAccount;
  let twice: unknown[] = [];
  let runsById = new Map<string, CronRunRow>();
  let cronSettled: ReturnType<typeof cronAfterRestart> = [];
  const cronAfterRestart = () => cronEvents!.received.filter((e) => e.at > restartAt).map((e) => e.data.cronRunUpdated);
  /** At least three runs announced after the restart, each with its end as well. */
  const cronSettledAfter = () => {
    const events = cronAfterRestart();
    const started = events.filter((e) => e.status === "running");
    return started.length >= 3 && started.every((s) => events.some((e) => e.id === s.id && e.status !== "running"));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-fault-redis-"));
    db = await freshPostgres();
    kube = await startSharedKube(dir);
    redis = await PrivateRedis.start();
    api = await fleet.start("replica-r", replicaEnv("replica-r", { dir, token, databaseUrl: db.url, kubeconfig: kube.kubeconfig, redis: { url: redis.url } }));
    const one = [api];

    await client.call(api, "CreatePool", { input: { name: POOL, runtime: "kubernetes", image: "berth/agent:test", slotsPerPod: 3, minPods: 1, maxPods: 1, autoscale: false } }, "createPool");
    const agents = await startPodAgents(kube, () => one);
    stopAgents = () => agents.stop();
    await waitForReadyPods(client, one, POOL, 1);

    cronEvents = await collectSubscription(api, token, "CronRunUpdated");
    slotEvents = await collectSubscription(api, token, "SlotChanged", { pool: POOL });
    // Both streams deliver before the fault.
    const before = await roundTrip(client, api, POOL, "before");
    acked.set("before", before.id);
    await slotEvents.waitFor((e) => e.slotChanged.taskId === before.id, 10_000);
    await cronEvents.waitFor((e) => e.cronRunUpdated.job === RECONCILE, 10_000);

    await redis.kill();
    killAt = Date.now();
    // While Redis is away: reads and health answer at once; one mutation that publishes is sent.
    const pending = patient.call(api, "SubmitTask", { input: { pool: POOL, type: "fault", payload: { ref: "during" } } }, "submitTask").then(
      (task: { id: string }) => (outageSubmit = { ok: true, settledAt: Date.now(), id: task.id }),
      (error: Error) => (outageSubmit = { ok: false, settledAt: Date.now(), error: error.message }),
    );
    for (const [name, variables] of [
      ["Pools", {}],
      ["Pool", { name: POOL }],
      ["Task", { id: before.id }],
      ["Tasks", { pool: POOL, first: 10 }],
      ["CronRuns", { job: RECONCILE, first: 5 }],
      ["CronJobs", {}],
    ] as const) {
      await client.call(api, name, variables).catch(() => {});
    }
    duringOutage.push(...client.log.filter((c) => c.at >= killAt));
    const healthz = await fetch(`${api.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    const readyz = await fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    health = { healthz: healthz.status, readyz: readyz.status, readyzBody: await readyz.text() };
    await sleep(Math.max(0, killAt + OUTAGE_MS - Date.now()));

    await redis.restart();
    restartAt = Date.now();

    for (const deadline = Date.now() + 30_000; !readyAgainAt && Date.now() < deadline; await sleep(200)) {
      const r = await fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
      if (r?.status === 200) readyAgainAt = Date.now();
    }
    for (const deadline = Date.now() + 30_000; !resumed && Date.now() < deadline; await sleep(300)) {
      const runs = await withDb(db.url, (c) => cronRuns(c, RECONCILE));
      resumed = runs.find((r) => r.startedAt && r.startedAt.getTime() > restartAt && r.status === "succeeded");
      runsBefore = runs.filter((r) => r.scheduledAt.getTime() < killAt);
    }
    await pending;
    if (outageSubmit?.id) acked.set("during", outageSubmit.id);
    afterRestartTask = await roundTrip(client, api, POOL, "after");
    acked.set("after", afterRestartTask.id);
    // Pub/sub keeps nothing for a subscriber that is reconnecting: what counts is that events flow
    // again on the same streams, for changes made after the restart.
    await slotEvents.waitFor((e, at) => at > restartAt && e.slotChanged.taskId === null && e.slotChanged.pod === afterRestartTask!.pod, 15_000).catch(() => {});
    for (const deadline = Date.now() + 20_000; !cronSettledAfter() && Date.now() < deadline; ) await sleep(200);
    // Jobs keep firing every second: the runs judged below are those announced up to the moment
    // every started one had ended, not one that starts while the checks run.
    cronSettled = cronAfterRestart();

    await drain(client, one, POOL);
    await withDb(db.url, async (c) => {
      finalViolations = await slotViolations(c);
      account = await accountForTasks(c, POOL, { acked, ambiguous: new Set(), retried: new Set(), finished: new Set(), unresolved: new Set() });
      twice = await fireTimesRunTwice(c);
      const all = (await c.query<CronRunRow>(`SELECT id, job, replica, status::text AS status, "scheduledAt", "startedAt", "fencingToken" FROM "CronRun"`)).rows;
      runsById = new Map(all.map((r) => [r.id, r]));
    });
    const tokensAfter = [...runsById.values()].filter((r) => r.job === RECONCILE && r.startedAt && r.startedAt.getTime() > restartAt).map((r) => Number(r.fencingToken));
    console.info(
      `redis-restart: outage ${restartAt - killAt} ms; the mutation sent during it ${outageSubmit?.ok ? "succeeded" : `failed (${outageSubmit?.error})`} after ${
        (outageSubmit?.settledAt ?? 0) - killAt
      } ms; ready again ${readyAgainAt - restartAt} ms and cron resumed ${resumed?.startedAt ? resumed.startedAt.getTime() - restartAt : "?"} ms after the restart; ` +
        `reconcile fencing tokens: last before ${Math.max(...runsBefore.map((r) => Number(r.fencingToken)))}, first after ${Math.min(...tokensAfter)}`,
    );
  }, 200_000);

  afterAll(async () => {
    await cronEvents?.close();
    await slotEvents?.close();
    await stopAgents().catch(() => {});
    await fleet.killAll();
    await redis?.kill();
    await kube?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("while Redis was down, reads and /healthz answered at once and /readyz named Redis as not ready", () => {
    expect(duringOutage.map((c) => c.operation)).toEqual(["Pools", "Pool", "Task", "Tasks", "CronRuns", "CronJobs"]);
    expect(duringOutage.filter((c) => !c.ok)).toEqual([]);
    expect(health?.healthz).toBe(200);
    expect(health?.readyz).toBe(503);
    expect(JSON.parse(health!.readyzBody)).toMatchObject({ status: "not ready", checks: { database: "ok" } });
    expect(JSON.parse(health!.readyzBody).checks.redis).not.toBe("ok");
    expect(api.alive()).toBe(true);
  });

  it("the mutation sent during the outage completed once Redis was back, and created its task exactly once", () => {
    expect(outageSubmit).toMatchObject({ ok: true });
    expect(account.lost).toEqual([]);
    expect(account.duplicated).toEqual([]);
    expect(account.strays).toEqual([]);
    expect(account.mismatched).toEqual([]);
    expect(account.byStatus).toEqual({ succeeded: 3 });
  });

  it("after the restart the API is ready again, takes the reconcile lock again, and a task makes a full round trip", () => {
    expect(readyAgainAt).toBeGreaterThan(0);
    expect(resumed).toBeDefined();
    expect(resumed!.replica).toBe("replica-r");
    // Redis came back empty, fencing counters included; tokens must still only grow.
    const before = Math.max(...runsBefore.map((r) => Number(r.fencingToken)));
    const after = [...runsById.values()].filter((r) => r.job === RECONCILE && r.startedAt && r.startedAt.getTime() > restartAt).map((r) => Number(r.fencingToken));
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after)).toBeGreaterThan(before);
    expect(afterRestartTask).toBeDefined();
    expect(finalViolations).toEqual(NO_SLOT_VIOLATIONS);
  });

  it("subscriptions opened before the outage deliver events again after it, on the same streams", () => {
    expect(cronEvents!.ended()).toBeNull();
    expect(slotEvents!.ended()).toBeNull();
    const after = slotEvents!.received.filter((e) => e.at > restartAt).map((e) => e.data.slotChanged);
    const placed = after.findIndex((e) => e.taskId === afterRestartTask!.id && e.state === "running");
    expect(placed).toBeGreaterThanOrEqual(0);
    const { pod, index } = after[placed]!;
    expect(after.slice(placed + 1).some((e) => e.pod === pod && e.index === index && e.state === "idle" && e.taskId === null)).toBe(true);
    // Runs that started after the restart were announced start and end, and started after it.
    const cron = cronSettled;
    const started = cron.filter((e) => e.status === "running");
    expect(started.length).toBeGreaterThanOrEqual(3);
    for (const s of started) {
      expect(runsById.get(s.id)!.startedAt!.getTime()).toBeGreaterThan(restartAt);
      expect(cron.filter((e) => e.id === s.id).map((e) => e.status)).toEqual(["running", "succeeded"]);
    }
  });

  it("no fire time ran twice across the outage: one run row per (job, fire time), one start announced per run", () => {
    expect(twice).toEqual([]);
    const starts = cronEvents!.received.map((e) => e.data.cronRunUpdated).filter((e) => e.status === "running");
    // Announcements made while Redis was down are dropped (and counted), not queued: the runs
    // themselves are in the database. Those made before and after the outage arrive.
    expect(starts.length).toBeGreaterThan(0);
    const ids = starts.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const fireTimes = ids.map((id) => runsById.get(id)).map((r) => (r ? `${r.job}@${r.scheduledAt.toISOString()}` : "missing row"));
    expect(fireTimes.filter((f) => f === "missing row")).toEqual([]);
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
  });
});
