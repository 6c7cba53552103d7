import { createSubscriptionQueue } from "./queue.js";
import type { EventBus, EventOf, Resync } from "./types.js";

/** In-process EventBus for the embedded default: one process, no Redis. `queueLimit` bounds each subscriber's queue. */
export function createMemoryEventBus(options: { queueLimit?: number } = {}): EventBus {
  const subscribers = new Map<string, Set<{ push(value: unknown): void }>>();
  return {
    async publish(channel, event) {
      for (const s of subscribers.get(channel) ?? []) s.push(structuredClone(event));
    },
    subscribe<C extends string>(channel: C, signal?: AbortSignal) {
      let set = subscribers.get(channel);
      if (!set) subscribers.set(channel, (set = new Set()));
      const queue = createSubscriptionQueue<EventOf<C> | Resync>(() => {
        set.delete(queue as never);
        if (set.size === 0) subscribers.delete(channel);
      }, { signal, limit: options.queueLimit });
      set.add(queue as never);
      return queue;
    },
    async close() {
      subscribers.clear();
    },
  };
}
