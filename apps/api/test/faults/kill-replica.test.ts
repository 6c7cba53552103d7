// Two API replicas in cluster mode share PostgreSQL, Redis (under a key prefix of their own) and a
// Kubernetes API. Clients submit and finish tasks through both, the test plays the pods' agents
// through both, and the built-in cron jobs tick every second. The replica holding the reconcile
// job's lock is killed with SIGKILL in the middle of that pass, while allocations go on.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CronRunUpdated } from "@berth/core/events";
import { BUILTIN_LOCK_TTL_MS } from "@berth/core/cron";
import { deleteKeys } from "../../../../packages/core/test/locks/redis-keys.js";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../../packages/core/test/support/services.js";
import { Fleet, replicaEnv, type Replica } from "./support/fleet.js";
import { Client } from "./support/graphql.js";
import { accountForTasks, cronRuns, fireTimesRunTwice, NO_SLOT_VIOLATIONS, slotViolations, withDb, type CronRunRow, type SlotViolations, type TaskAccount } from "./support/invariants.js";
import { startSharedKube, type SharedKube } from "./support/kube.js";
import { drain, startPodAgents, startClients, waitForReadyPods, type WorkloadResult } from "./support/workload.js";

const POOL = "fault-kill";
const RECONCILE = "reconcile-pools";
/** Each reconcile pass waits this long for its pod list: the lock is held at least this long per pass. */
const LIST_DELAY_MS = 1000;

describe.skipIf(!postgresAvailable || !redisAvailable)("kill -9 of an API replica in the middle of allocations and of its cron run", () => {
  const token = `fault-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-fault-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  const client = new Client(token);
  const announcements: CronRunUpdated[] = [];
  const samples: SlotViolations[] = [];
  let dir = "";
  let kube: SharedKube | undefined;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let listener: Redis | undefined;
  let stopBackground = async () => {};
  let stopAgents = async () => {};

  // What the scenario observed, asserted by the tests below.
  let victim: Replica;
  let survivor: Replica;
  let killAt = 0;
  let takeover: CronRunRow | undefined;
  let interrupted: CronRunRow[] = [];
  let victimLocksAfter: unknown[] = [];
  let work: WorkloadResult;
  let finalViolations: SlotViolations;
  let account: TaskAccount;
  let busySlotsAfterDrain = -1;
  /** Tasks the pods' agents finished after the kill (their reports reach the survivor). */
  let finishedAfterKill = 0;
  let twice: unknown[] = [];
  let runsById = new Map<string, CronRunRow>();
  let podRows: string[] = [];
  let podsInKube: string[] = [];

  beforeAll(async () => {
    const setupStarted = Date.now();
    dir = await mkdtemp(join(tmpdir(), "berth-fault-kill-"));
    db = await freshPostgres();
    kube = await startSharedKube(dir, LIST_DELAY_MS);
    // Every run start and end the replicas announce, heard on Redis itself: the side effect that
    // would show a fire time run twice even where the run history could not.
    listener = new Redis(REDIS_URL);
    await listener.subscribe(`${prefix}events:cronRun`);
    listener.on("message", (_channel: string, message: string) => announcements.push(JSON.parse(message) as CronRunUpdated));

    const base = { dir, token, databaseUrl: db.url, kubeconfig: kube.kubeconfig, redis: { url: REDIS_URL, prefix } };
    const [a, b] = await Promise.all([fleet.start("replica-a", replicaEnv("replica-a", base)), fleet.start("replica-b", replicaEnv("replica-b", base))]);
    const both = [a!, b!];
    const started = Date.now();
    const startupMs = started - setupStarted;

    await client.call(a!, "CreatePool", { input: { name: POOL, runtime: "kubernetes", image: "berth/agent:test", slotsPerPod: 3, minPods: 3, maxPods: 3, autoscale: false } }, "createPool");
    const agents = await startPodAgents(kube, () => both.filter((r) => r.alive()));
    stopAgents = () => agents.stop();
    await waitForReadyPods(client, both, POOL, 3);
    const clients = startClients(client, both, POOL, { workers: 10, holdMs: 150 });
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 200; i++) {
        samples.push(await withDb(db!.url, slotViolations));
        await sleep(1000);
      }
    })();
    stopBackground = async () => {
      sampling = false;
      // The agents go on: they finish what the clients left when the pool is drained.
      await Promise.all([clients.stop(), sampler]);
    };
    const loadStarted = Date.now();
    await sleep(3000);

    // The holder of the reconcile lock whose run row says `running`: killing it now interrupts
    // the pass in the middle (a lock seen without its row may belong to a run not yet recorded).
    const lockDeadline = Date.now() + 30_000;
    for (;;) {
      const { locks } = await client.callAny(both, "Locks");
      const held = (locks as { key: string; holder: string; acquiredAt: string }[]).find((l) => l.key === `cron:${RECONCILE}`);
      const age = held ? Date.now() - new Date(held.acquiredAt).getTime() : -1;
      const candidate = age >= 0 && age <= LIST_DELAY_MS * 5 ? both.find((r) => r.name === held?.holder) : undefined;
      const running = candidate ? (await withDb(db.url, (c) => cronRuns(c, RECONCILE))).some((r) => r.replica === candidate.name && r.status === "running") : false;
      const holder = running ? candidate : undefined;
      if (holder) {
        await holder.kill9();
        killAt = Date.now();
        victim = holder;
        survivor = both.find((r) => r !== holder)!;
        break;
      }
      if (Date.now() > lockDeadline) throw new Error("no replica was seen holding the reconcile lock");
      await sleep(20);
    }

    // The survivor takes over once the dead replica's lock expires (10 s ttl, extended every 3.3 s).
    const takeoverDeadline = Date.now() + 30_000;
    while (!takeover && Date.now() < takeoverDeadline) {
      const runs = await withDb(db.url, (c) => cronRuns(c, RECONCILE));
      takeover = runs.find((r) => r.replica === survivor.name && r.startedAt && r.startedAt.getTime() > killAt && r.status === "succeeded");
      // The victim's run cut short by the kill: still `running`, or already closed as failed by the
      // survivor's next run under the lock.
      interrupted = runs.filter((r) => r.replica === victim.name && (r.status === "running" || r.status === "failed"));
      if (!takeover) await sleep(500);
    }
    victimLocksAfter = ((await client.call(survivor, "Locks")).locks as { holder: string }[]).filter((l) => l.holder === victim.name);
    // A little more work on the survivor alone, after the take-over.
    await sleep(2000);
    await stopBackground();
    stopBackground = async () => {};
    work = clients.result;
    await drain(client, [survivor], POOL);

    await withDb(db.url, async (c) => {
      finalViolations = await slotViolations(c);
      account = await accountForTasks(c, POOL, work);
      busySlotsAfterDrain = Number((await c.query(`SELECT count(*) AS n FROM "Slot" WHERE state <> 'idle'`)).rows[0].n);
      finishedAfterKill = Number((await c.query(`SELECT count(*) AS n FROM "Task" WHERE status = 'succeeded' AND "finishedAt" > ($1::timestamptz AT TIME ZONE 'UTC')`, [new Date(killAt).toISOString()])).rows[0].n);
      twice = await fireTimesRunTwice(c);
      const all = (await c.query<CronRunRow>(`SELECT id, job, replica, status::text AS status, "scheduledAt", "startedAt", "fencingToken" FROM "CronRun"`)).rows;
      runsById = new Map(all.map((r) => [r.id, r]));
      podRows = (await c.query<{ name: string }>(`SELECT name FROM "Pod" WHERE phase = 'Ready' ORDER BY name`)).rows.map((r) => r.name);
    });
    podsInKube = podRows.filter((name) => kube!.api.pod("default", name) !== undefined);

    console.info(
      `kill-replica: replicas up in ${startupMs} ms, load from ${loadStarted - started} ms; killed ${victim.name} ${killAt - loadStarted} ms into the load; ${survivor.name} took the reconcile lock over after ${
        takeover?.startedAt ? takeover.startedAt.getTime() - killAt : "?"
      } ms; tasks ${JSON.stringify(account.byStatus)} (${work.acked.size} acknowledged, ${work.retried.size} retried with their idempotency key, ${work.ambiguous.size} still unanswered, ${account.ambiguousCreated} of those created); ` +
        `interrupted run rows: ${interrupted.map((r) => `${r.scheduledAt.toISOString()} token ${r.fencingToken}`).join(", ")}`,
    );
  }, 200_000);

  afterAll(async () => {
    await stopBackground().catch(() => {});
    await stopAgents();
    await fleet.killAll();
    listener?.disconnect();
    const cleaner = new Redis(REDIS_URL);
    await deleteKeys(cleaner, prefix).catch(() => {});
    cleaner.disconnect();
    await kube?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the survivor answered every request sent to it, and the agents kept finishing tasks through it after the kill", () => {
    expect(victim.alive()).toBe(false);
    expect(survivor.alive()).toBe(true);
    const toSurvivor = client.log.filter((c) => c.endpoint === survivor.name);
    expect(toSurvivor.filter((c) => !c.ok)).toEqual([]);
    expect(finishedAfterKill).toBeGreaterThan(10);
    // Nothing answered for the dead replica any more: every later call to it was refused.
    const toVictimAfter = client.log.filter((c) => c.endpoint === victim.name && c.at > killAt + 100);
    expect(toVictimAfter.every((c) => !c.ok && /\(refused\)/.test(c.error ?? ""))).toBe(true);
  });

  it("the pool's pods lived in the shared Kubernetes API; the only failed runs are the victim's, closed by the survivor", () => {
    expect(podRows).toHaveLength(3);
    expect(podsInKube).toEqual(podRows);
    // Any job's run the kill cut short (reconcile-pools, dispatch-schedules), none of another replica.
    const failed = [...runsById.values()].filter((r) => r.status === "failed");
    expect(failed.filter((r) => r.replica !== victim.name || !r.startedAt || r.startedAt.getTime() > killAt)).toEqual([]);
    // Nothing the dead replica started is left looking alive.
    expect([...runsById.values()].filter((r) => r.replica === victim.name && r.status === "running")).toEqual([]);
  });

  it("the kill interrupted the victim's reconcile run; its lock expired and the survivor's reconcile ran next with a higher fencing token", () => {
    expect(interrupted.length).toBeGreaterThanOrEqual(1);
    expect(takeover).toBeDefined();
    // Within the built-in jobs' lock ttl and the next 5 s fire time after it, plus slack for a
    // loaded machine: well under the 30 s it took with the old ttl.
    expect(takeover!.startedAt!.getTime() - killAt).toBeLessThan(BUILTIN_LOCK_TTL_MS + 5_000 + 10_000);
    const interruptedToken = Math.max(...interrupted.map((r) => Number(r.fencingToken)));
    expect(Number(takeover!.fencingToken)).toBeGreaterThan(interruptedToken);
    expect(takeover!.scheduledAt.getTime()).toBeGreaterThan(Math.max(...interrupted.map((r) => r.scheduledAt.getTime())));
    expect(victimLocksAfter).toEqual([]);
  });

  it("no slot leaked and no live task lost its slot: sampled every second during the run, and after it", () => {
    expect(samples.length).toBeGreaterThan(5);
    for (const sample of samples) expect(sample).toEqual(NO_SLOT_VIOLATIONS);
    expect(finalViolations).toEqual(NO_SLOT_VIOLATIONS);
    expect(busySlotsAfterDrain).toBe(0);
  });

  it("every submitted task is accounted for: one task per acknowledged submit, none duplicated or stray, every one finished", () => {
    expect(account.lost).toEqual([]);
    expect(account.duplicated).toEqual([]);
    expect(account.strays).toEqual([]);
    expect(account.mismatched).toEqual([]);
    expect(account.total).toBe(work.acked.size + account.ambiguousCreated);
    expect(account.byStatus).toEqual({ succeeded: account.total });
    expect(work.acked.size).toBeGreaterThan(30);
    // A lost answer was retried with the same key: answered in the end, and never a second task.
    expect(work.ambiguous.size).toBe(0);
    expect([...work.retried].filter((ref) => !work.acked.has(ref))).toEqual([]);
  });

  it("no fire time ran twice: one run row per (job, fire time), one start announced per run, and every announced start has its row", () => {
    expect(twice).toEqual([]);
    const starts = announcements.filter((e) => e.status === "running");
    expect(starts.length).toBeGreaterThanOrEqual(5);
    const perRun = new Map<string, number>();
    for (const s of starts) perRun.set(s.id, (perRun.get(s.id) ?? 0) + 1);
    expect([...perRun].filter(([, n]) => n > 1)).toEqual([]);
    const fireTimes = starts.map((s) => runsById.get(s.id)).map((r) => (r ? `${r.job}@${r.scheduledAt.toISOString()}` : "missing row"));
    expect(fireTimes.filter((f) => f === "missing row")).toEqual([]);
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
  });
});
