import { eventsDropped } from "./metrics.js";

/** A subscriber fell `limit` events behind: what it missed is gone, and it must read the state again. */
export class SubscriptionOverflowError extends Error {
  constructor(readonly limit: number) {
    super(`the subscriber fell more than ${limit} events behind and was closed; subscribe again and read the current state`);
    this.name = "SubscriptionOverflowError";
  }
}

/** Events kept for one subscriber when the creator names no limit. */
export const DEFAULT_QUEUE_LIMIT = 10_000;

export interface SubscriptionQueueOptions<T> {
  /** Events kept for a reader that is slower than the events; past it, the queue overflows. */
  limit?: number;
  /**
   * What the reader gets, in place of everything it had not read, when the queue overflows; the
   * iterator ends after it. Without it, the reader's next `next()` rejects with
   * SubscriptionOverflowError.
   */
  overflowed?: (limit: number) => T;
  signal?: AbortSignal;
}

/**
 * A bounded async queue backing one subscription: events pushed while nobody awaits are kept in
 * order, up to `limit`; `end()` finishes the iterator. Each subscriber has its own. A reader that
 * falls behind is closed with a reason rather than kept at any cost: memory stays bounded, and
 * the database (not the event stream) is the truth it resyncs from.
 */
export function createSubscriptionQueue<T>(
  onEnd: () => void,
  signalOrOptions?: AbortSignal | SubscriptionQueueOptions<T>,
): AsyncIterableIterator<T> & { push(value: T): void; end(): void } {
  const options: SubscriptionQueueOptions<T> = signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : (signalOrOptions ?? {});
  const { signal, overflowed } = options;
  const limit = options.limit ?? DEFAULT_QUEUE_LIMIT;
  const buffered: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let failure: SubscriptionOverflowError | null = null;
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    onEnd();
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  const overflow = () => {
    // The event that did not fit, and every one the reader had not taken.
    eventsDropped.inc({ reason: "subscriber_overflow" }, buffered.length + 1);
    buffered.length = 0;
    if (overflowed) buffered.push(overflowed(limit));
    else failure = new SubscriptionOverflowError(limit);
    end();
  };
  if (signal?.aborted) {
    // Already over: the iterator starts finished, and the caller's registration is undone
    // once it exists (onEnd may refer to the queue this function is still building).
    done = true;
    queueMicrotask(onEnd);
  } else {
    signal?.addEventListener("abort", end, { once: true });
  }
  return {
    /** No more events: the reader still gets what is buffered, then the end. */
    end,
    push(value: T) {
      if (done) return;
      const resolve = waiting.shift();
      if (resolve) resolve({ value, done: false });
      else if (buffered.length >= limit) overflow();
      else buffered.push(value);
    },
    next() {
      if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
      if (failure) {
        const error = failure;
        failure = null;
        return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    /** The reader leaves: what it had not read is dropped. */
    return() {
      buffered.length = 0;
      failure = null;
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      end();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
