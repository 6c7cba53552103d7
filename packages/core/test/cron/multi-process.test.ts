import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisEventBus, isResync, type CronRunUpdated } from "../../src/events/index.js";
import { freshPostgres } from "../support/databases.js";
import { REDIS_URL, postgresAvailable, redisAvailable } from "../support/services.js";
import { deleteKeys } from "../locks/redis-keys.js";

const REPLICAS = 3;
const FIRE_WINDOW_MS = 35_000;
const script = fileURLToPath(new URL("./fixtures/replica.ts", import.meta.url));

interface Sample {
  labels: Record<string, string | number>;
  value: number;
}
interface Stopped {
  type: "stopped";
  replica: string;
  executions: Sample[];
  lockFailures: Sample[];
}

/** The next message of `type` from `child`, or a failure after `ms`. */
function nextMessage<T>(child: ChildProcess, type: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} message from pid ${child.pid} within ${ms} ms`)), ms);
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`replica pid ${child.pid} exited with ${code} before ${type}`));
    });
  });
}

describe.skipIf(!postgresAvailable || !redisAvailable)("three replica processes sharing an every-second job", () => {
  const children: ChildProcess[] = [];
  const redis = new Redis(REDIS_URL);
  const prefix = `berth-test:${randomBytes(4).toString("hex")}:`;
  let drop: (() => Promise<void>) | undefined;

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await drop?.();
  });

  it("runs every fire time exactly once, and the losing replicas count lock contention", { timeout: 150_000 }, async () => {
    const db = await freshPostgres();
    drop = db.drop;
    for (let i = 0; i < REPLICAS; i++) {
      children.push(
        fork(script, [], {
          execArgv: ["--import", "tsx"],
          env: { ...process.env, CLUSTER_MODE: "true", REPLICA_ID: `replica-${i}`, DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix },
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        }),
      );
    }
    const ready = await Promise.all(children.map((c) => nextMessage<{ replica: string; clustered: boolean }>(c, "ready", 60_000)));
    expect(ready.map((r) => [r.replica, r.clustered])).toEqual(Array.from({ length: REPLICAS }, (_, i) => [`replica-${i}`, true]));

    // Events from every replica reach a subscriber in this process through Redis.
    const bus = createRedisEventBus({ url: REDIS_URL, prefix: `${prefix}events:` });
    const seen: CronRunUpdated[] = [];
    const subscription = bus.subscribe("cronRun");
    const collecting = (async () => {
      for await (const e of subscription) if (!isResync(e)) seen.push(e);
    })();
    await bus.whenSubscribed();
    const allUpAt = Date.now();
    await sleep(FIRE_WINDOW_MS);
    const stopAt = Date.now();

    const stopped = await Promise.all(
      children.map((c) => {
        const reply = nextMessage<Stopped>(c, "stopped", 30_000);
        c.send({ type: "stop" });
        return reply;
      }),
    );
    await sleep(200);
    await subscription.return!();
    await collecting;
    await bus.close();

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ id: string; scheduledAt: Date; status: string; replica: string; fencingToken: string }>(
      `SELECT id, "scheduledAt", status, replica, "fencingToken" FROM "CronRun" WHERE job = 'every-second' ORDER BY "scheduledAt"`,
    );
    await client.end();

    // The history: one succeeded run per second, no gap, from the first to the last.
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.filter((r) => r.status !== "succeeded")).toEqual([]);
    const times = rows.map((r) => r.scheduledAt.getTime());
    const steps = times.slice(1).map((t, i) => t - times[i]!);
    expect(steps.every((d) => d > 0 && d % 1000 === 0)).toBe(true);
    // A fire time goes unrun only when it was skipped: the replica holding the job was still running
    // the previous one (overlap=skip), or every replica stalled past it on an overloaded machine.
    // Each such fire time is counted as skipped by a replica; on a quiet machine there are none.
    const unrun = steps.reduce((n, d) => n + d / 1000 - 1, 0);
    const skipped = stopped.reduce((a, s) => a + s.executions.filter((x) => x.labels.task === "every-second" && x.labels.status === "skipped").reduce((b, x) => b + x.value, 0), 0);
    expect(unrun).toBeLessThanOrEqual(skipped);
    expect(unrun).toBeLessThanOrEqual(Math.floor(FIRE_WINDOW_MS / 1000 / 5));
    const firesWhileAllUp = times.filter((t) => t > allUpAt && t < stopAt - 1000);
    expect(firesWhileAllUp.length).toBeGreaterThanOrEqual(Math.floor(FIRE_WINDOW_MS / 1000) - 2 - unrun);

    // The side effect agrees: exactly one increment per recorded fire time, none elsewhere.
    let cursor = "0";
    const fired = new Map<number, string>();
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}fired:*`, "COUNT", 500);
      cursor = next;
      for (const k of keys) fired.set(Number(k.slice(`${prefix}fired:`.length)), (await redis.get(k))!);
    } while (cursor !== "0");
    expect([...fired.keys()].sort((a, b) => a - b)).toEqual(times);
    expect([...new Set(fired.values())]).toEqual(["1"]);

    // Fencing tokens grow with the fire times, whichever replica ran them.
    const tokens = rows.map((r) => Number(r.fencingToken));
    expect(tokens.every((tk, i) => i === 0 || tk > tokens[i - 1]!)).toBe(true);

    // Metrics: the replicas' successes add up to the history; contention shows as lock failures.
    const sum = (samples: Sample[], status?: string) => samples.filter((s) => s.labels.task === "every-second" && (!status || s.labels.status === status)).reduce((a, s) => a + s.value, 0);
    expect(stopped.reduce((a, s) => a + sum(s.executions, "succeeded"), 0)).toBe(rows.length);
    const lockFailures = stopped.reduce((a, s) => a + sum(s.lockFailures), 0);
    expect(lockFailures).toBeGreaterThan(0);
    const perReplica = new Map(stopped.map((s) => [s.replica, { runs: sum(s.executions, "succeeded"), lockFailures: sum(s.lockFailures) }]));
    console.log(`every-second: ${rows.length} fire times, per replica ${JSON.stringify(Object.fromEntries(perReplica))}`);

    // Each run announced its start and its end to other processes.
    for (const r of rows.filter((x) => x.scheduledAt.getTime() > allUpAt + 1000 && x.scheduledAt.getTime() < stopAt - 1000)) {
      expect(seen.filter((e) => e.id === r.id).map((e) => e.status)).toEqual(["running", "succeeded"]);
    }

    for (const c of children) await new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once("exit", resolve)));
    expect(children.map((c) => c.exitCode)).toEqual(Array(REPLICAS).fill(0));
  });
});
