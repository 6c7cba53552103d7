import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisLockService } from "../../src/locks/index.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";
import { deleteKeys } from "./redis-keys.js";

describe.skipIf(!redisAvailable)("Redis lock storage", () => {
  const redis = new Redis(REDIS_URL);
  // Glob characters in the prefix must not widen list()'s SCAN pattern to other namespaces.
  const prefix = `berth-test:${randomBytes(4).toString("hex")}:[x]*:`;
  const neighbour = prefix.replace("[x]*", "xzz");
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await deleteKeys(redis, neighbour);
    redis.disconnect();
  });

  it("stores holder and token in the key's value, with a PX expiry, and a fence counter that outlives the lock", async () => {
    const locks = createRedisLockService(redis, { replicaId: "pod-7:with:colons", prefix });
    const lock = await locks.acquire("jobs/reconcile", 4000);
    const value = await redis.get(`${prefix}lock:jobs/reconcile`);
    expect(value).toBe(`${lock!.fencingToken}:${lock!.acquiredAt.getTime()}:pod-7:with:colons`);
    const ttl = await redis.pttl(`${prefix}lock:jobs/reconcile`);
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(4000);
    await lock!.release();
    expect(await redis.exists(`${prefix}lock:jobs/reconcile`)).toBe(0);
    expect(await redis.get(`${prefix}fence:jobs/reconcile`)).toBe(String(lock!.fencingToken));
    const again = await locks.acquire("jobs/reconcile", 4000);
    expect(again!.fencingToken).toBeGreaterThan(lock!.fencingToken);
    expect(again!.holder).toBe("pod-7:with:colons");
    await again!.release();
  });

  it("list() finds every lock under its prefix by SCAN and nothing outside it", async () => {
    const mine = createRedisLockService(redis, { replicaId: "a", prefix });
    const other = createRedisLockService(redis, { replicaId: "b", prefix: neighbour });
    const held = await Promise.all(Array.from({ length: 450 }, (_, i) => mine.acquire(`k${String(i).padStart(3, "0")}`, 20_000)));
    const foreign = await other.acquire("k000", 20_000);
    const listed = await mine.list();
    expect(listed).toHaveLength(450);
    expect(listed.every((l) => l.holder === "a")).toBe(true);
    expect(listed[0]).toMatchObject({ key: "k000", fencingToken: held[0]!.fencingToken });
    expect(await other.list()).toEqual([expect.objectContaining({ key: "k000", holder: "b", fencingToken: foreign!.fencingToken })]);
    await mine.close();
    await other.close();
    expect(await mine.list()).toEqual([]);
  });
});
