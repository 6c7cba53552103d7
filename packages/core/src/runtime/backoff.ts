/** Exponential delays between `initialMs` and `maxMs`, so retries never spin nor stall for long. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export function createBackoff({ initialMs, maxMs }: Backoff) {
  let next = initialMs;
  return {
    /** The delay to wait now; the following one doubles, up to `maxMs`. */
    take(): number {
      const current = next;
      next = Math.min(maxMs, next * 2);
      return current;
    },
    reset(): void {
      next = initialMs;
    },
  };
}

/** Waits `ms`; resolves false (early) when `signal` aborts, true otherwise. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
export { deadlineSignal } from "./deadline.js";
