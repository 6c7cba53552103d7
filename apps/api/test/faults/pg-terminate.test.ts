// An API process on PostgreSQL whose every database connection is terminated by the server
// (pg_terminate_backend, as a failover or an administrator would), twice, while clients allocate
// and finish tasks and the cron jobs tick. Only this test's own database is touched.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { POSTGRES_URL, postgresAvailable } from "../../../../packages/core/test/support/services.js";
import { Fleet, replicaEnv, type Replica } from "./support/fleet.js";
import { Client } from "./support/graphql.js";
import { accountForTasks, cronRuns, fireTimesRunTwice, NO_SLOT_VIOLATIONS, slotViolations, withDb, type CronRunRow, type SlotViolations, type TaskAccount } from "./support/invariants.js";
import { startSharedKube, type SharedKube } from "./support/kube.js";
import { drain, roundTrip, startPodAgents, startClients, waitForReadyPods, type WorkloadResult } from "./support/workload.js";

const POOL = "fault-pg";
const RECONCILE = "reconcile-pools";
const ROUNDS = 2;

/** Ends every server process of `database` (except the caller's), from a connection to another database. */
async function terminateBackends(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!postgresAvailable)("every PostgreSQL connection of the API terminated while allocations run", () => {
  const token = `fault-admin-${randomBytes(12).toString("hex")}`;
  const fleet = new Fleet();
  const client = new Client(token, 10_000);
  const samples: SlotViolations[] = [];
  let dir = "";
  let kube: SharedKube | undefined;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let stopBackground = async () => {};
  let stopAgents = async () => {};

  let api: Replica;
  const terminated: number[] = [];
  let lastTerminateAt = 0;
  /** Per round, ms from the termination to the first successful request (-1: none within 30 s). */
  const recoveries: number[] = [];
  const probe = new Client(token, 10_000);
  let failedDuringFault = 0;
  let afterRecovery: { id: string; pod: string } | undefined;
  let resumed: CronRunRow | undefined;
  let work: WorkloadResult;
  let finalViolations: SlotViolations;
  let account: TaskAccount;
  let busySlotsAfterDrain = -1;
  let twice: unknown[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-fault-pg-"));
    db = await freshPostgres();
    const database = new URL(db.url).pathname.slice(1);
    kube = await startSharedKube(dir);
    // Embedded-style (no Redis): only the database is under test here.
    api = await fleet.start("replica-p", replicaEnv("replica-p", { dir, token, databaseUrl: db.url, kubeconfig: kube.kubeconfig }));
    const one = [api];

    await client.call(api, "CreatePool", { input: { name: POOL, runtime: "kubernetes", image: "berth/agent:test", slotsPerPod: 3, minPods: 2, maxPods: 2, autoscale: false } }, "createPool");
    const agents = await startPodAgents(kube, () => one);
    stopAgents = () => agents.stop();
    await waitForReadyPods(client, one, POOL, 2);
    const clients = startClients(client, one, POOL, { workers: 8, holdMs: 100 });
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 200; i++) {
        // A sample caught by the termination itself is skipped, not counted.
        const sample = await withDb(db!.url, slotViolations).catch(() => null);
        if (sample) samples.push(sample);
        await sleep(1000);
      }
    })();
    stopBackground = async () => {
      sampling = false;
      // The agents go on: they finish what the clients left when the pool is drained.
      await Promise.all([clients.stop(), sampler]);
    };

    await sleep(3000);
    for (let round = 0; round < ROUNDS; round++) {
      terminated.push(await terminateBackends(database));
      lastTerminateAt = Date.now();
      // Recovery: the first request after the termination that succeeds, polled for at most 30 s.
      let recovered = 0;
      for (const deadline = Date.now() + 30_000; !recovered && api.alive() && Date.now() < deadline; ) {
        if (await probe.call(api, "Pools").then(() => true, () => false)) recovered = Date.now();
        else await sleep(50);
      }
      recoveries.push(recovered ? recovered - lastTerminateAt : -1);
      await sleep(Math.max(0, lastTerminateAt + 2000 - Date.now()));
    }
    await sleep(2000);
    await stopBackground();
    stopBackground = async () => {};
    work = clients.result;
    failedDuringFault = client.log.filter((c) => !c.ok).length;
    if (!api.alive()) return;
    // The stopped clients may leave tasks they never reported, ahead of the round trip in the
    // queue with every slot taken: finish them first, so the round trip times the API alone.
    await drain(client, [api], POOL);
    afterRecovery = await roundTrip(client, api, POOL, "after-recovery");
    for (const deadline = Date.now() + 20_000; !resumed && Date.now() < deadline; await sleep(300)) {
      resumed = (await withDb(db.url, (c) => cronRuns(c, RECONCILE))).find((r) => r.startedAt && r.startedAt.getTime() > lastTerminateAt && r.status === "succeeded");
    }
    await drain(client, one, POOL);

    await withDb(db.url, async (c) => {
      finalViolations = await slotViolations(c);
      account = await accountForTasks(c, POOL, work, new Map([["after-recovery", afterRecovery!.id]]));
      busySlotsAfterDrain = Number((await c.query(`SELECT count(*) AS n FROM "Slot" WHERE state <> 'idle'`)).rows[0].n);
      twice = await fireTimesRunTwice(c);
    });
    console.info(
      `pg-terminate: ${terminated.join(" + ")} backends terminated; ${failedDuringFault} of ${client.log.length} client calls failed; first success ${recoveries.join(" and ")} ms after each termination; tasks ${JSON.stringify(account.byStatus)} (${work.acked.size} acknowledged, ${work.retried.size} retried with their idempotency key, ${work.ambiguous.size} still unanswered, ${account.ambiguousCreated} of those created)`,
    );
  }, 200_000);

  afterAll(async () => {
    await stopBackground().catch(() => {});
    await stopAgents();
    await fleet.killAll();
    await kube?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the terminations hit the API's connections, and the process survived them without a crash report", () => {
    expect(terminated.every((n) => n > 0)).toBe(true);
    const { exitCode, signalCode } = api.process.child;
    expect(api.alive(), `the API process ended (${exitCode ?? signalCode}); its output:\n${api.process.output().slice(-6000)}`).toBe(true);
    // Failed requests are logged with their stack (masked for clients); what must not appear is a
    // process-level failure.
    expect(api.process.output()).not.toMatch(/Unhandled 'error' event|unhandledRejection|uncaughtException|FATAL ERROR/);
  });

  it("requests succeed again after the last termination, and a task makes a full round trip", () => {
    expect(recoveries).toHaveLength(ROUNDS);
    expect(recoveries.every((ms) => ms >= 0)).toBe(true);
    expect(afterRecovery).toBeDefined();
    expect(resumed).toBeDefined();
  });

  it("no slot leaked and no live task lost its slot: sampled every second through the faults, and after them", () => {
    expect(samples.length).toBeGreaterThan(3);
    for (const sample of samples) expect(sample).toEqual(NO_SLOT_VIOLATIONS);
    expect(finalViolations).toEqual(NO_SLOT_VIOLATIONS);
    expect(busySlotsAfterDrain).toBe(0);
  });

  it("no task lost or duplicated: one task per acknowledged submit, at most one per unanswered submit, every one finished", () => {
    expect(account.lost).toEqual([]);
    expect(account.duplicated).toEqual([]);
    expect(account.strays).toEqual([]);
    expect(account.mismatched).toEqual([]);
    expect(account.total).toBe(work.acked.size + 1 + account.ambiguousCreated);
    expect(account.byStatus).toEqual({ succeeded: account.total });
    expect(work.acked.size).toBeGreaterThan(20);
    // A lost answer was retried with the same key: answered in the end, and never a second task.
    expect(work.ambiguous.size).toBe(0);
    expect([...work.retried].filter((ref) => !work.acked.has(ref))).toEqual([]);
  });

  it("no cron fire time ran twice through the faults", () => {
    expect(twice).toEqual([]);
  });
});
