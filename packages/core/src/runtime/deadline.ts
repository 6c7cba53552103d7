/**
 * A signal that aborts after `ms`, or when any of `others` does. Its timer holds it: Node's
 * `AbortSignal.timeout()` combined through `AbortSignal.any()` is only weakly held and can be
 * garbage-collected before it fires, and then it never aborts (an agent that never gave up on an
 * API gone for good showed it). `clear()` drops the timer once the work is done.
 */
export function deadlineSignal(ms: number, ...others: AbortSignal[]): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError")), Math.max(1, ms));
  timer.unref?.();
  return {
    signal: others.length ? AbortSignal.any([controller.signal, ...others]) : controller.signal,
    clear: () => clearTimeout(timer),
  };
}
