import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCronScheduler, defineCronJob, type CronContext, type CronScheduler } from "../../src/cron/index.js";
import { createMemoryEventBus } from "../../src/events/index.js";
import { LockLostError, createRedisLockService } from "../../src/locks/index.js";
import { backends, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";
import { metricValue } from "../locks/metric-value.js";
import { deleteKeys } from "../locks/redis-keys.js";

describe.skipIf(!redisAvailable)("cron jobs holding a Redis lock", () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `berth-test:${randomBytes(4).toString("hex")}:`;
  const mine = createRedisLockService(redis, { replicaId: "replica-a", prefix });
  const thief = createRedisLockService(redis, { replicaId: "replica-b", prefix });
  let t: TestDatabase;
  let scheduler: CronScheduler;

  beforeAll(async () => {
    t = await openTestDatabase(backends.includes("postgres") ? "postgres" : "pglite");
    scheduler = createCronScheduler({ prisma: t.db.prisma, locks: mine, events: createMemoryEventBus(), cluster: { clustered: true, replicaId: "replica-a" } });
  });
  afterAll(async () => {
    await scheduler.stop();
    await thief.close();
    await t.drop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("a job that outlives its lock ttl keeps the lock by extension", async () => {
    const lostBefore = await metricValue("lock_lost_total", { key: "cron:long-job" });
    const thiefGot: boolean[] = [];
    let seen: CronContext | undefined;
    await scheduler.register(
      defineCronJob({
        name: "long-job",
        schedule: "0 0 0 1 1 *",
        lockTtl: 1000,
        run: async (ctx) => {
          seen = ctx;
          // Three times the ttl, trying to take the lock from another replica all along.
          for (let i = 0; i < 6; i++) {
            await sleep(500);
            thiefGot.push((await thief.acquire("cron:long-job", 5000)) !== null);
          }
        },
      }),
    );
    const run = await scheduler.trigger("long-job");
    await scheduler.idle();
    expect(await t.db.prisma.cronRun.findUnique({ where: { id: run!.id } })).toMatchObject({ error: null, status: "succeeded", fencingToken: String(seen!.fencingToken) });
    expect(thiefGot).toEqual([false, false, false, false, false, false]);
    expect(seen!.signal.aborted).toBe(false);
    expect(await metricValue("lock_lost_total", { key: "cron:long-job" })).toBe(lostBefore);
    expect(await redis.exists(`${prefix}lock:cron:long-job`)).toBe(0);
  });

  it("a job whose lock is taken over sees its abort signal, its run fails, and the new holder has a newer fencing token", async () => {
    let seen: CronContext | undefined;
    await scheduler.register(
      defineCronJob({
        name: "stolen-job",
        schedule: "0 0 0 1 1 *",
        lockTtl: 600,
        run: async (ctx) => {
          seen = ctx;
          if (!ctx.signal.aborted) await Promise.race([new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)), sleep(10_000)]);
          ctx.signal.throwIfAborted();
        },
      }),
    );
    const run = await scheduler.trigger("stolen-job");
    expect(run).toMatchObject({ status: "running", replica: "replica-a" });
    // The key vanishes (as after a Redis failover or eviction) and another replica takes it.
    await redis.del(`${prefix}lock:cron:stolen-job`);
    const stolen = await thief.acquire("cron:stolen-job", 30_000);
    expect(stolen).not.toBeNull();
    await scheduler.idle();

    expect(seen!.signal.aborted).toBe(true);
    expect(seen!.signal.reason).toBeInstanceOf(LockLostError);
    expect(seen!.signal.reason).toMatchObject({ reason: "taken", fencingToken: seen!.fencingToken });
    expect(stolen!.fencingToken).toBeGreaterThan(seen!.fencingToken!);
    const row = await t.db.prisma.cronRun.findUnique({ where: { id: run!.id } });
    expect(row).toMatchObject({ status: "failed", fencingToken: String(seen!.fencingToken) });
    expect(row!.error).toContain("LockLostError");
    // The loser's release left the new holder's lock alone.
    expect(await redis.get(`${prefix}lock:cron:stolen-job`)).toMatch(new RegExp(`^${stolen!.fencingToken}:\\d+:replica-b$`));
    await stolen!.release();
  });
});
