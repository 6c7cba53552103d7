import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryEventBus, createRedisEventBus, isResync, type EventBus, type Resync, type SlotChanged } from "../../src/events/index.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";

interface Fixture {
  /** Two buses; for Redis they are two replicas on the same prefix, for memory the same bus twice. */
  a: EventBus;
  b: EventBus;
  /** Resolves when subscriptions made so far receive what is published next. */
  settle(): Promise<void>;
  /** Subscribers the backing system still holds for `channel`, where it can be observed. */
  externalSubscribers?(channel: string): Promise<number>;
  close(): Promise<void>;
}

const redisPrefix = `berth-test:${randomBytes(4).toString("hex")}:`;

const fixtures: [string, () => Fixture][] = [
  [
    "memory",
    () => {
      const bus = createMemoryEventBus();
      return { a: bus, b: bus, settle: async () => {}, close: () => bus.close() };
    },
  ],
];
if (redisAvailable) {
  fixtures.push([
    "redis",
    () => {
      const admin = new Redis(REDIS_URL);
      const a = createRedisEventBus({ url: REDIS_URL, prefix: redisPrefix });
      const b = createRedisEventBus({ redis: new Redis(REDIS_URL), prefix: redisPrefix });
      return {
        a,
        b,
        settle: async () => {
          await a.whenSubscribed();
          await b.whenSubscribed();
        },
        async externalSubscribers(channel) {
          const reply = (await admin.call("PUBSUB", "NUMSUB", redisPrefix + channel)) as [string, number];
          return Number(reply[1]);
        },
        async close() {
          await a.close();
          await b.close();
          admin.disconnect();
        },
      };
    },
  ]);
}

const slot = (pool: string, index: number): SlotChanged => ({ pool, pod: `${pool}-a`, index, state: "running", taskId: `t${index}`, at: new Date(0).toISOString() });

/** The next `n` events, or fails after `ms` (no test waits forever). */
/** The next `n` events (Resync markers are not events and are skipped). */
async function take<T>(it: AsyncIterator<T | Resync>, n: number, ms = 5000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    const next = await Promise.race([it.next(), new Promise<"timeout">((r) => setTimeout(() => r("timeout"), Math.max(0, left)))]);
    if (next === "timeout") throw new Error(`only ${out.length} of ${n} events arrived within ${ms} ms`);
    if (next.done) break;
    if (!isResync(next.value)) out.push(next.value as T);
  }
  return out;
}

/** Whether anything arrives within `ms`. */
async function quiet<T>(it: AsyncIterator<T>, ms = 150): Promise<boolean> {
  const next = await Promise.race([it.next(), new Promise<"quiet">((r) => setTimeout(() => r("quiet"), ms))]);
  return next === "quiet" || (next as IteratorResult<T>).done === true;
}

describe.each(fixtures)("EventBus (%s)", (backend, make) => {
  const f = make();
  afterAll(() => f.close());

  it("delivers a channel's events to a subscriber in publish order", async () => {
    const sub = f.b.subscribe("slot:order");
    await f.settle();
    for (let i = 0; i < 200; i++) await f.a.publish("slot:order", slot("order", i));
    const got = await take(sub, 200);
    expect(got.map((e) => e.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(got[7]).toEqual(slot("order", 7));
    await sub.return!();
  });

  it("fans every event out to every subscriber of the channel", async () => {
    const subs = [f.a.subscribe("pool"), f.b.subscribe("pool"), f.b.subscribe("pool")];
    await f.settle();
    for (let i = 0; i < 5; i++) await f.a.publish("pool", { name: `p${i}`, podCount: i, utilization: 0.5, at: "t" });
    for (const s of subs) expect((await take(s, 5)).map((e) => e.name)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    for (const s of subs) await s.return!();
  });

  it("return() ends one subscription and leaves the others delivering", async () => {
    const leaving = f.b.subscribe("slot:leave");
    const staying = f.b.subscribe("slot:leave");
    await f.settle();
    await f.a.publish("slot:leave", slot("leave", 1));
    expect(await take(leaving, 1)).toHaveLength(1);
    expect(await leaving.return!()).toEqual({ value: undefined, done: true });
    await f.a.publish("slot:leave", slot("leave", 2));
    expect(await leaving.next()).toEqual({ value: undefined, done: true });
    expect((await take(staying, 2)).map((e) => e.index)).toEqual([1, 2]);
    await staying.return!();
  });

  it("an aborted signal ends the subscription, even while a consumer waits", async () => {
    const controller = new AbortController();
    const sub = f.b.subscribe("slot:abort", controller.signal);
    await f.settle();
    const waiting = sub.next();
    controller.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await f.a.publish("slot:abort", slot("abort", 1));
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  it("a signal aborted before subscribing yields an ended subscription", async () => {
    const already = new AbortController();
    already.abort();
    expect(await f.b.subscribe("slot:aborted", already.signal).next()).toEqual({ value: undefined, done: true });
  });

  it("keeps channels apart", async () => {
    const x = f.b.subscribe("slot:x");
    const y = f.b.subscribe("slot:y");
    const xx = f.b.subscribe("slot:xx");
    await f.settle();
    await f.a.publish("slot:x", slot("x", 1));
    await f.a.publish("slot:y", slot("y", 2));
    expect((await take(x, 1))[0]!.pool).toBe("x");
    expect((await take(y, 1))[0]!.pool).toBe("y");
    expect(await quiet(x)).toBe(true);
    expect(await quiet(xx)).toBe(true);
    for (const s of [x, y, xx]) await s.return!();
  });

  it.skipIf(backend !== "redis")("a subscriber is not leaked after return(): the channel leaves Redis with its last subscriber", async () => {
    const bus = f.b as ReturnType<typeof createRedisEventBus>;
    const s1 = bus.subscribe("slot:leak");
    const s2 = bus.subscribe("slot:leak");
    await f.settle();
    expect(bus.subscriberCount("slot:leak")).toBe(2);
    expect(await f.externalSubscribers!("slot:leak")).toBe(1);
    await s1.return!();
    await f.settle();
    expect(await f.externalSubscribers!("slot:leak")).toBe(1);
    await s2.return!();
    await f.settle();
    expect(bus.subscriberCount("slot:leak")).toBe(0);
    expect(await f.externalSubscribers!("slot:leak")).toBe(0);
    const again = bus.subscribe("slot:leak");
    await f.settle();
    await f.a.publish("slot:leak", slot("leak", 9));
    expect((await take(again, 1))[0]!.index).toBe(9);
    await again.return!();
  });

  it.skipIf(backend !== "redis")("two buses, as two replicas, see each other's events, and another prefix sees none", async () => {
    const onA = f.a.subscribe("cronRun");
    const onB = f.b.subscribe("cronRun");
    const elsewhere = createRedisEventBus({ url: REDIS_URL, prefix: `${redisPrefix}other:` });
    const foreign = elsewhere.subscribe("cronRun");
    await f.settle();
    await elsewhere.whenSubscribed();
    await f.a.publish("cronRun", { id: "1", job: "from-a", status: "running", durationMs: null });
    await f.b.publish("cronRun", { id: "2", job: "from-b", status: "succeeded", durationMs: 12 });
    expect((await take(onA, 2)).map((e) => e.job)).toEqual(["from-a", "from-b"]);
    expect((await take(onB, 2)).map((e) => e.job)).toEqual(["from-a", "from-b"]);
    expect(await quiet(foreign)).toBe(true);
    await elsewhere.close();
    await onA.return!();
    await onB.return!();
  });

  it.skipIf(backend !== "redis")("after its connection to Redis drops, each subscriber is told to re-read the truth (Resync), then events flow again", async () => {
    const name = `berth-resync-${randomBytes(4).toString("hex")}`;
    const bus = createRedisEventBus({ redis: new Redis(REDIS_URL, { connectionName: name }), prefix: redisPrefix });
    const admin = new Redis(REDIS_URL);
    try {
      const sub = bus.subscribe("slot:resync");
      await bus.whenSubscribed();
      // Kill exactly this bus's subscriber connection, as a network blip or a Redis failover would.
      const clients = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
      const ids = clients
        .split("\n")
        .filter((line) => line.includes(`name=${name} `))
        .map((line) => /id=(\d+)/.exec(line)![1]!);
      expect(ids).toHaveLength(1);
      await admin.call("CLIENT", "KILL", "ID", ids[0]!);
      const first = await Promise.race([sub.next(), new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000))]);
      expect(first).not.toBe("timeout");
      expect(isResync((first as IteratorResult<unknown>).value)).toBe(true);
      await f.a.publish("slot:resync", slot("resync", 1));
      expect((await take(sub, 1))[0]!.index).toBe(1);
      await sub.return!();
    } finally {
      await bus.close();
      admin.disconnect();
    }
  });
});
