// Two API replicas, started as the README shows them (PostgreSQL, Redis, local pods running the
// agent, @berth/agent), talk to Redis through a proxy that loses half of the assignment events, as Redis
// pub/sub does across a reconnect. 200 tasks are submitted through both replicas. The agents
// really receive their work: by the event when it arrives, by their sync at every heartbeat when
// it does not. Every task must complete, none staying running much past its work.
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
import { Fleet, readmeReplicaEnv, type Replica } from "./support/fleet.js";
import { Client } from "./support/graphql.js";
import { NO_SLOT_VIOLATIONS, slotViolations, withDb } from "./support/invariants.js";
import { killLocalPods } from "./support/local-pods.js";
import { LossyRedisProxy } from "./support/lossy-redis.js";
import { waitForReadyPods } from "./support/workload.js";

const POOL = "lost-events";
const TASKS = 200;
const WORK_MS = 100;
const HEARTBEAT_MS = 1000;

interface Finished {
  id: string;
  status: string;
  startedAt: string | null;
  acknowledgedAt: string | null;
  finishedAt: string | null;
}

/** The task with when its agent confirmed it began (beside the contract's Task operation). */
const TASK_TIMES = `query TaskTimes($id: ID!) { task(id: $id) { id status startedAt acknowledgedAt finishedAt } }`;

describe.skipIf(!postgresAvailable || !redisAvailable)("assignment events lost between two replicas: agents converge from their syncs", () => {
  const token = `lost-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-lost-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  const client = new Client(token);
  let dir = "";
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let proxy: LossyRedisProxy | undefined;
  let replicas: Replica[] = [];
  let tasks: Finished[] = [];
  let violations: unknown;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-lost-events-"));
    db = await freshPostgres();
    const upstream = new URL(REDIS_URL);
    proxy = await new LossyRedisProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) }, "events:assignment:", 0.5).start();
    const env = (name: string) => readmeReplicaEnv(name, { dir, token, databaseUrl: db!.url, redisUrl: proxy!.url, prefix });
    replicas = await Promise.all([fleet.start("api-1", env("api-1")), fleet.start("api-2", env("api-2"))]);

    await client.call(replicas[0]!, "CreatePool", { input: { name: POOL, minPods: 2, maxPods: 2, slotsPerPod: 3, autoscale: false } }, "createPool");
    await waitForReadyPods(client, replicas, POOL, 2, 90_000);

    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let n = w; n < TASKS; n += 8) {
          const input = { pool: POOL, type: "plan", payload: { durationMs: WORK_MS }, idempotencyKey: `lost-${n}` };
          ids.push((await client.callAny(replicas, "SubmitTask", { input }, "submitTask", n)).id as string);
        }
      }),
    );
    const deadline = Date.now() + 120_000;
    for (;;) {
      tasks = await Promise.all(ids.map(async (id) => (await client.callAnyQuery(replicas, TASK_TIMES, { id })).task as Finished));
      if (tasks.every((t) => t.finishedAt !== null) || Date.now() > deadline) break;
      await sleep(500);
    }
    violations = await withDb(db.url, slotViolations);
  }, 300_000);

  afterAll(async () => {
    if (replicas.length > 0) await client.callAny(replicas, "DeletePool", { name: POOL }, "deletePool").catch(() => {});
    await fleet.killAll();
    if (dir) killLocalPods(join(dir, "data"));
    await proxy?.stop();
    const cleaner = new Redis(REDIS_URL);
    await deleteKeys(cleaner, prefix).catch(() => {});
    cleaner.disconnect();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the proxy really lost assignment events", () => {
    console.log(`lost-events: ${proxy!.dropped} assignment event(s) lost, ${proxy!.passed} delivered`);
    expect(proxy!.dropped).toBeGreaterThan(TASKS / 4);
  });

  it("every one of the 200 tasks completed, and no slot leaked", () => {
    expect(tasks).toHaveLength(TASKS);
    expect(tasks.filter((t) => t.status !== "succeeded")).toEqual([]);
    expect(violations).toEqual(NO_SLOT_VIOLATIONS);
  });

  it("no task waited for its agent much longer than one heartbeat, lost event or not", () => {
    const unworked = tasks.map((t) => Date.parse(t.acknowledgedAt!) - Date.parse(t.startedAt!)).sort((a, b) => a - b);
    const overrun = tasks.map((t) => Date.parse(t.finishedAt!) - Date.parse(t.startedAt!) - WORK_MS).sort((a, b) => a - b);
    console.log(
      `lost-events: placed → agent started: longest ${unworked.at(-1)} ms, median ${unworked[unworked.length >> 1]} ms; running past its work: longest ${overrun.at(-1)} ms, median ${overrun[overrun.length >> 1]} ms (heartbeat ${HEARTBEAT_MS} ms)`,
    );
    // One heartbeat for the sync that carries a lost assignment, plus the report's round trip on a
    // loaded two-core machine.
    expect(unworked.at(-1)).toBeLessThan(HEARTBEAT_MS + 1500);
  });
});
