import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidLockRequestError, LockLostError, createMemoryLockService, createMemoryLockStore, createRedisLockService, type LockService } from "../../src/locks/index.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";
import { metricValue } from "./metric-value.js";
import { deleteKeys } from "./redis-keys.js";

interface Fixture {
  /** Two replicas contending for the same keys. */
  a: LockService;
  b: LockService;
  /** Makes the current holder of `key` lose it behind its back (expiry, or the key deleted). */
  loseBehindBack(key: string): Promise<void>;
  /** The store forgets everything, fencing counters included (a Redis restart without persistence, a new process). */
  loseAllData(): Promise<void>;
  close(): Promise<void>;
}

const makers: [string, boolean, () => Fixture][] = [
  [
    "memory",
    true,
    () => {
      const store = createMemoryLockStore();
      let skew = 0;
      const clock = () => new Date(Date.now() + skew);
      return {
        a: createMemoryLockService({ replicaId: "replica-a", clock, store }),
        b: createMemoryLockService({ replicaId: "replica-b", clock, store }),
        async loseBehindBack(key) {
          const entry = store.locks.get(key);
          if (entry) skew += entry.expiresAt.getTime() - clock().getTime() + 1;
        },
        async loseAllData() {
          store.locks.clear();
          store.fences.clear();
        },
        async close() {},
      };
    },
  ],
  [
    "redis",
    redisAvailable,
    () => {
      const redis = new Redis(REDIS_URL, { lazyConnect: false });
      const prefix = `berth-test:${randomBytes(4).toString("hex")}:`;
      return {
        a: createRedisLockService(redis, { replicaId: "replica-a", prefix }),
        b: createRedisLockService(redis, { replicaId: "replica-b", prefix }),
        async loseBehindBack(key) {
          await redis.del(`${prefix}lock:${key}`);
        },
        async loseAllData() {
          await deleteKeys(redis, prefix);
        },
        async close() {
          await deleteKeys(redis, prefix);
          redis.disconnect();
        },
      };
    },
  ],
];

describe.each(makers.filter(([, available]) => available).map(([name, , make]) => [name, make] as const))("LockService (%s)", (backend, make) => {
  const f = make();
  const closers: LockService[] = [f.a, f.b];
  const key = (name: string) => `${backend}-${name}`;
  afterAll(async () => {
    for (const s of closers) await s.close();
    await f.close();
  });

  it("gives a key to one holder at a time, with its holder and a fencing token", async () => {
    const lock = await f.a.acquire(key("exclusive"), 5000);
    expect(lock).not.toBeNull();
    expect(lock!.holder).toBe("replica-a");
    expect(lock!.fencingToken).toBeGreaterThan(0);
    expect(lock!.expiresAt.getTime() - lock!.acquiredAt.getTime()).toBe(5000);
    expect(await f.b.acquire(key("exclusive"), 5000)).toBeNull();
    expect(await f.a.acquire(key("exclusive"), 5000)).toBeNull();
    expect(await lock!.release()).toBe(true);
    expect(await lock!.release()).toBe(false);
    const next = await f.b.acquire(key("exclusive"), 5000);
    expect(next?.holder).toBe("replica-b");
    await next!.release();
  });

  it("hands out fencing tokens that only grow per key, across holders and expiries", async () => {
    const tokens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const service = i % 2 === 0 ? f.a : f.b;
      const lock = await service.acquire(key("fence"), 5000);
      tokens.push(lock!.fencingToken);
      if (i % 3 === 2) await f.loseBehindBack(key("fence"));
      else await lock!.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    // Tokens are per key: another key's counter is its own.
    const other = await f.a.acquire(key("fence-other"), 5000);
    const again = await f.b.acquire(key("fence"), 5000);
    expect(again!.fencingToken).toBeGreaterThan(tokens.at(-1)!);
    await other!.release();
    await again!.release();
  });

  it("keeps fencing tokens growing after the store lost its data", async () => {
    const before = await f.a.acquire(key("amnesia"), 5000);
    await before!.release();
    await sleep(2);
    await f.loseAllData();
    const after = await f.b.acquire(key("amnesia"), 5000);
    expect(after!.fencingToken).toBeGreaterThan(before!.fencingToken);
    expect(Number.isSafeInteger(after!.fencingToken)).toBe(true);
    await after!.release();
  });

  it("release and extend never touch a lock that another holder took meanwhile", async () => {
    const first = await f.a.acquire(key("stolen"), 5000);
    await f.loseBehindBack(key("stolen"));
    const second = await f.b.acquire(key("stolen"), 5000);
    expect(second).not.toBeNull();
    expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken);

    const error = await first!.extend(5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ key: key("stolen"), fencingToken: first!.fencingToken, reason: "taken" });
    expect(first!.signal.aborted).toBe(true);
    expect(first!.signal.reason).toBeInstanceOf(LockLostError);
    expect(await first!.release()).toBe(false);

    const held = (await f.a.list()).find((l) => l.key === key("stolen"));
    expect(held).toMatchObject({ holder: "replica-b", fencingToken: second!.fencingToken });
    await second!.release();
  });

  it("an extend that finds the lock gone reports it and aborts the signal", async () => {
    const lock = await f.a.acquire(key("gone"), 5000);
    await f.loseBehindBack(key("gone"));
    await expect(lock!.extend()).rejects.toMatchObject({ name: "LockLostError", reason: "gone" });
    expect(lock!.signal.aborted).toBe(true);
  });

  it("a holder listening on the signal before the loss hears the abort once, with the reason", async () => {
    const lock = await f.a.acquire(key("listened"), 5000);
    const heard: unknown[] = [];
    lock!.signal.addEventListener("abort", () => heard.push(lock!.signal.reason));
    expect(lock!.signal.aborted).toBe(false);
    await f.loseBehindBack(key("listened"));
    await expect(lock!.extend()).rejects.toMatchObject({ reason: "gone" });
    await expect(lock!.extend()).rejects.toMatchObject({ reason: "gone" });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ name: "LockLostError", key: key("listened"), reason: "gone" });
  });

  it("extend pushes the expiry forward while the lock is held", async () => {
    const lock = await f.a.acquire(key("extend"), 1000);
    const before = lock!.expiresAt.getTime();
    await sleep(20);
    await lock!.extend(10_000);
    expect(lock!.expiresAt.getTime()).toBeGreaterThan(before + 8000);
    const listed = (await f.b.list()).find((l) => l.key === key("extend"));
    expect(listed!.expiresAt.getTime()).toBeGreaterThan(before + 8000);
    expect(lock!.signal.aborted).toBe(false);
    await lock!.release();
  });

  it("waits for a busy key until it frees, and gives up at the deadline", async () => {
    const holder = await f.a.acquire(key("wait"), 5000);
    expect(await f.b.acquire(key("wait"), 5000, { waitMs: 150, retryMs: 20 })).toBeNull();
    setTimeout(() => void holder!.release(), 100);
    const waited = await f.b.acquire(key("wait"), 5000, { waitMs: 5000, retryMs: 20 });
    expect(waited?.holder).toBe("replica-b");
    expect(waited!.fencingToken).toBeGreaterThan(holder!.fencingToken);
    await waited!.release();
  });

  it("auto-extension keeps a lock well past its ttl; without it the holder is told when the ttl runs out", async () => {
    const kept = await f.a.acquire(key("auto"), 300, { autoExtend: true });
    const lapsing = await f.a.acquire(key("lapse"), 150);
    await sleep(900);
    expect(kept!.signal.aborted).toBe(false);
    expect(await f.b.acquire(key("auto"), 300)).toBeNull();
    expect(lapsing!.signal.aborted).toBe(true);
    expect(lapsing!.signal.reason).toMatchObject({ reason: "expired" });
    const retaken = await f.b.acquire(key("lapse"), 5000);
    expect(retaken).not.toBeNull();
    await retaken!.release();
    await kept!.release();
    expect((await f.a.list()).some((l) => l.key === key("auto"))).toBe(false);
  });

  it("lists held locks with holder, token and times, and not released ones", async () => {
    const one = await f.a.acquire(key("list-1"), 5000);
    const two = await f.b.acquire(key("list-2"), 5000);
    const gone = await f.b.acquire(key("list-3"), 5000);
    await gone!.release();
    const mine = (await f.a.list()).filter((l) => l.key.startsWith(key("list-")));
    expect(mine).toEqual([
      { key: key("list-1"), holder: "replica-a", fencingToken: one!.fencingToken, acquiredAt: one!.acquiredAt, expiresAt: expect.any(Date) },
      { key: key("list-2"), holder: "replica-b", fencingToken: two!.fencingToken, acquiredAt: two!.acquiredAt, expiresAt: expect.any(Date) },
    ]);
    for (const l of mine) expect(Math.abs(l.expiresAt.getTime() - (l.acquiredAt.getTime() + 5000))).toBeLessThan(2000);
    await one!.release();
    await two!.release();
  });

  it("rejects impossible requests with a typed error and takes nothing", async () => {
    const bad: [string, number, object?][] = [
      ["", 1000],
      [key("bad"), 0],
      [key("bad"), 1.5],
      [key("bad"), 1000, { waitMs: -1 }],
    ];
    for (const [k, ttl, options] of bad) {
      await expect(f.a.acquire(k, ttl, options)).rejects.toBeInstanceOf(InvalidLockRequestError);
    }
    expect((await f.a.list()).some((l) => l.key === key("bad"))).toBe(false);
  });

  it("counts acquisitions by result, held locks and lost locks", async () => {
    const k = key("metrics");
    const acquired = await metricValue("lock_acquire_total", { key: k, result: "acquired" });
    const busy = await metricValue("lock_acquire_total", { key: k, result: "busy" });
    const lost = await metricValue("lock_lost_total", { key: k });
    const lock = await f.a.acquire(k, 5000);
    expect(await metricValue("lock_held", { key: k })).toBe(1);
    await f.b.acquire(k, 5000);
    await f.loseBehindBack(k);
    await lock!.extend().catch(() => {});
    expect(await metricValue("lock_acquire_total", { key: k, result: "acquired" })).toBe(acquired + 1);
    expect(await metricValue("lock_acquire_total", { key: k, result: "busy" })).toBe(busy + 1);
    expect(await metricValue("lock_lost_total", { key: k })).toBe(lost + 1);
    expect(await metricValue("lock_held", { key: k })).toBe(0);
  });

  it("close() releases what the service still holds", async () => {
    const lock = await f.a.acquire(key("close"), 5000);
    await f.a.close();
    expect(await lock!.release()).toBe(false);
    expect(await f.b.acquire(key("close"), 5000)).not.toBeNull();
  });
});
