/**
 * An unbounded async queue backing one subscription: events pushed while nobody awaits are
 * kept in order; `end()` finishes the iterator. Each subscriber has its own.
 */
export function createSubscriptionQueue<T>(onEnd: () => void, signal?: AbortSignal): AsyncIterableIterator<T> & { push(value: T): void } {
  const buffered: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    onEnd();
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
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
    push(value: T) {
      if (done) return;
      const resolve = waiting.shift();
      if (resolve) resolve({ value, done: false });
      else buffered.push(value);
    },
    next() {
      if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
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
