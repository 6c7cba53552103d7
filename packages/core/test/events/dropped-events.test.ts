// Every event that does not reach its subscribers is counted once, by why: Redis refused or lost
// the publish (publish_failed), or one subscriber fell behind (subscriber_overflow). An event
// that Redis took late is counted as late, not as lost.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createMemoryEventBus, createRedisEventBus, type SlotChanged } from "../../src/events/index.js";
import { registry } from "../../src/metrics/index.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
}

const event = (index: number): SlotChanged => ({ pool: "p", pod: "p-a", index, state: "running", taskId: null, at: new Date(0).toISOString() });

describe("events that do not arrive are counted", () => {
  it("a subscriber that falls behind: its dropped events count as subscriber_overflow", async () => {
    const bus = createMemoryEventBus({ queueLimit: 5 });
    const before = await counter("berth_events_dropped_total", { reason: "subscriber_overflow" });
    const slow = bus.subscribe("slot:p");
    for (let i = 0; i < 8; i++) await bus.publish("slot:p", event(i));
    // Five were kept when the sixth came: all six are lost to this subscriber; later ones find it closed.
    expect((await counter("berth_events_dropped_total", { reason: "subscriber_overflow" })) - before).toBe(6);
    await slow.return?.();
    await bus.close();
  });

  describe.skipIf(!redisAvailable)("over Redis", () => {
    const prefix = `berth-test:${randomBytes(4).toString("hex")}:`;

    it("a publish Redis refuses is dropped (publish_failed), once", async () => {
      // Nothing listens there, and commands are not queued: each publish fails.
      const refusing = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      refusing.on("error", () => {});
      const bus = createRedisEventBus({ redis: refusing, prefix });
      const [dropped, late] = [await counter("berth_events_dropped_total", { reason: "publish_failed" }), await counter("berth_events_late_total")];
      for (let i = 0; i < 3; i++) await bus.publish("slot:p", event(i));
      expect((await counter("berth_events_dropped_total", { reason: "publish_failed" })) - dropped).toBe(3);
      expect((await counter("berth_events_late_total")) - late).toBe(0);
      await bus.close();
      refusing.disconnect();
    });

    it("a publish Redis takes after the 1 s wait is late, not dropped; one that fails after the wait is dropped", async () => {
      const slow = new Redis(REDIS_URL);
      const real = slow.publish.bind(slow);
      let fail = false;
      slow.publish = ((channel: string, message: string) =>
        new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error("connection lost")) : resolve(real(channel, message))), 1_500))) as typeof slow.publish;
      const bus = createRedisEventBus({ redis: slow, prefix });
      const [dropped, late] = [await counter("berth_events_dropped_total", { reason: "publish_failed" }), await counter("berth_events_late_total")];
      const started = Date.now();
      await bus.publish("slot:p", event(1));
      expect(Date.now() - started).toBeLessThan(1_400); // the caller is not held past the wait
      await new Promise((r) => setTimeout(r, 800));
      expect((await counter("berth_events_late_total")) - late).toBe(1);
      expect((await counter("berth_events_dropped_total", { reason: "publish_failed" })) - dropped).toBe(0);
      fail = true;
      await bus.publish("slot:p", event(2));
      await new Promise((r) => setTimeout(r, 800));
      expect((await counter("berth_events_dropped_total", { reason: "publish_failed" })) - dropped).toBe(1);
      expect((await counter("berth_events_late_total")) - late).toBe(1);
      await bus.close();
      slow.disconnect();
    });
  });
});
