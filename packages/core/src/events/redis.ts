import { Redis } from "ioredis";
import { eventsDropped, eventsLate, eventsResyncs as resyncs } from "./metrics.js";
import { createSubscriptionQueue } from "./queue.js";
import type { EventBus, EventOf, Resync } from "./types.js";

export type RedisEventBusOptions = (
  | { url: string }
  /** Publishes on `redis`; subscribes on a duplicate of it, which the bus owns. */
  | { redis: Redis }
) & {
  /** Namespace of the bus's channels in Redis, e.g. "berth:events:". */
  prefix: string;
  /** Events kept for each local subscriber that reads slower than they come (see createSubscriptionQueue). */
  queueLimit?: number;
};

export interface RedisEventBus extends EventBus {
  /** Resolves once every subscription made so far is active at Redis, so events published from now on reach it. */
  whenSubscribed(): Promise<void>;
  /** Live subscribers of `channel` on this bus. */
  subscriberCount(channel: string): number;
}

interface Subscriber {
  push(value: unknown): void;
  return(): Promise<IteratorResult<unknown>>;
}

/**
 * EventBus over Redis pub/sub: every replica's bus sees every replica's events. One subscriber
 * connection per bus carries all its channels; a channel is subscribed at Redis while it has
 * at least one local subscriber.
 */
const PUBLISH_TIMEOUT_MS = 1000;

export function createRedisEventBus(options: RedisEventBusOptions): RedisEventBus {
  const ownsPublisher = "url" in options;
  const publisher = "url" in options ? new Redis(options.url) : options.redis;
  const subscriber = publisher.duplicate();
  const { prefix } = options;
  const local = new Map<string, Set<Subscriber>>();
  // SUBSCRIBE/UNSUBSCRIBE replies arrive in order on the one connection; waiting on the last one
  // is enough for publish() to be seen by everything subscribed before it.
  let pending: Promise<unknown> = Promise.resolve();
  const onError = () => {
    // ioredis reconnects and re-subscribes by itself; an unhandled 'error' event would crash the process.
  };
  subscriber.on("error", onError);
  if (ownsPublisher) publisher.on("error", onError);

  // After a reconnect ioredis subscribes again by itself, but whatever was published while the
  // connection was down is gone for good: once the subscriptions are back (the PING's answer comes
  // after theirs), every local subscriber is told to re-read the truth.
  let connectedBefore = false;
  subscriber.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    void subscriber.ping().then(
      () => {
        const marker: Resync = { resync: true, reason: "reconnected", at: new Date().toISOString() };
        for (const set of local.values()) for (const s of set) s.push(marker);
        resyncs.inc();
      },
      () => {
        // Down again already: the next "ready" resyncs.
      },
    );
  });

  subscriber.on("message", (redisChannel: string, message: string) => {
    if (!redisChannel.startsWith(prefix)) return;
    const set = local.get(redisChannel.slice(prefix.length));
    if (!set) return;
    for (const s of set) {
      try {
        s.push(JSON.parse(message));
      } catch {
        // Not ours to deliver: a payload that is not JSON was published by something else on this channel.
      }
    }
  });

  const track = (p: Promise<unknown>) => {
    pending = Promise.all([pending, p.catch(() => {})]);
  };

  return {
    async publish(channel, event) {
      await pending;
      // Events follow committed writes: a Redis outage must not stall or fail the write that caused
      // them. The caller waits at most PUBLISH_TIMEOUT_MS; the publish goes on, and its outcome is
      // counted once: late if Redis took it after that, dropped if it failed (the database stays
      // the truth subscribers converge from).
      let waited = false;
      const published = publisher.publish(prefix + channel, JSON.stringify(event)).then(
        () => {
          if (waited) eventsLate.inc();
        },
        () => eventsDropped.inc({ reason: "publish_failed" }),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, PUBLISH_TIMEOUT_MS)));
      await Promise.race([published, timeout.then(() => (waited = true))]);
      clearTimeout(timer);
    },
    subscribe<C extends string>(channel: C, signal?: AbortSignal) {
      let set = local.get(channel);
      if (!set) {
        local.set(channel, (set = new Set()));
        track(subscriber.subscribe(prefix + channel));
      }
      const queue = createSubscriptionQueue<EventOf<C> | Resync>(() => {
        set.delete(queue as Subscriber);
        if (set.size === 0 && local.get(channel) === set) {
          local.delete(channel);
          if (subscriber.status !== "end") track(subscriber.unsubscribe(prefix + channel));
        }
        // An already-aborted signal is handled below, once `queue` exists for the callback above.
      }, { signal: signal?.aborted ? undefined : signal, limit: options.queueLimit });
      set.add(queue as Subscriber);
      if (signal?.aborted) void queue.return!();
      return queue;
    },
    whenSubscribed: () => pending.then(() => {}),
    subscriberCount: (channel) => local.get(channel)?.size ?? 0,
    async close() {
      for (const set of [...local.values()]) for (const s of [...set]) await s.return();
      await pending;
      await subscriber.quit().catch(() => subscriber.disconnect());
      if (ownsPublisher) await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}
