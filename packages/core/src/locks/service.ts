import { setTimeout as sleep } from "node:timers/promises";
import { InvalidLockRequestError, LockLostError, type LockLossReason } from "./errors.js";
import { lockAcquireTotal, lockHeld, lockLostTotal } from "./metrics.js";
import type { AcquireOptions, Lock, LockBackend, LockService } from "./types.js";

const MAX_KEY_LENGTH = 512;

function checkDuration(field: "ttlMs" | "waitMs" | "retryMs", value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 2 ** 31 - 1) {
    throw new InvalidLockRequestError(field, value, `must be a whole number of milliseconds, at least ${min}`);
  }
  return value;
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidLockRequestError("key", key, `must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/**
 * The part of every LockService that does not depend on where locks live: validation,
 * waiting, auto-extension, loss detection and metrics. `backend` does the atomic work.
 */
export function createLockService(backend: LockBackend, replicaId: string): LockService {
  const held = new Set<Lock>();

  function handle(key: string, ttlMs: number, taken: Awaited<ReturnType<LockBackend["tryAcquire"]>> & object, autoExtend: boolean): Lock {
    // Made on first use of `signal`: creating an AbortSignal costs more than the rest of an
    // acquisition, and most holders never look at it.
    let controller: AbortController | undefined;
    let lostWith: LockLostError | undefined;
    let expiresAt = taken.expiresAt;
    let released = false;
    let extendTimer: NodeJS.Timeout | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;
    lockHeld.inc({ key });

    const stopTimers = () => {
      clearTimeout(expiryTimer);
      clearInterval(extendTimer);
    };
    const finish = () => {
      if (released) return;
      released = true;
      stopTimers();
      held.delete(lock);
      lockHeld.dec({ key });
    };
    const lose = (reason: LockLossReason) => {
      if (released) return;
      finish();
      lockLostTotal.inc({ key, reason });
      lostWith = new LockLostError(key, taken.fencingToken, reason);
      controller?.abort(lostWith);
    };
    // The lock may have expired at the store once its ttl has run out since we asked for it,
    // so the holder is told then, even if nobody calls extend.
    const armExpiry = (requestedAt: number, ttl: number) => {
      clearTimeout(expiryTimer);
      expiryTimer = setTimeout(() => lose("expired"), Math.max(0, requestedAt + ttl - Date.now()));
      expiryTimer.unref();
    };

    const lock: Lock = {
      key,
      holder: replicaId,
      fencingToken: taken.fencingToken,
      acquiredAt: taken.acquiredAt,
      get expiresAt() {
        return expiresAt;
      },
      get signal() {
        controller ??= new AbortController();
        if (lostWith && !controller.signal.aborted) controller.abort(lostWith);
        return controller.signal;
      },
      async extend(ttl = ttlMs) {
        checkDuration("ttlMs", ttl, 1);
        if (lostWith) throw lostWith;
        if (released) throw new LockLostError(key, taken.fencingToken, "gone");
        const requestedAt = Date.now();
        const result = await backend.extend(key, taken.value, ttl);
        if (result instanceof Date) {
          if (released) return;
          expiresAt = result;
          armExpiry(requestedAt, ttl);
          return;
        }
        lose(result);
        throw lostWith ?? new LockLostError(key, taken.fencingToken, result);
      },
      async release() {
        if (released) return false;
        finish();
        return backend.release(key, taken.value);
      },
    };

    armExpiry(Date.now(), ttlMs);
    if (autoExtend) {
      extendTimer = setInterval(
        () => {
          // A failed round trip is retried next interval; the expiry timer reports the loss if none succeeds in time.
          lock.extend(ttlMs).catch(() => {});
        },
        Math.max(1, Math.floor(ttlMs / 3)),
      );
      extendTimer.unref();
    }
    held.add(lock);
    return lock;
  }

  return {
    replicaId,
    async acquire(key, ttlMs, options: AcquireOptions = {}) {
      checkKey(key);
      checkDuration("ttlMs", ttlMs, 1);
      const waitMs = checkDuration("waitMs", options.waitMs ?? 0, 0);
      const retryMs = checkDuration("retryMs", options.retryMs ?? 50, 1);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const taken = await backend.tryAcquire(key, replicaId, ttlMs);
        if (taken) {
          lockAcquireTotal.inc({ key, result: "acquired" });
          return handle(key, ttlMs, taken, options.autoExtend ?? false);
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          lockAcquireTotal.inc({ key, result: waitMs > 0 ? "timeout" : "busy" });
          return null;
        }
        await sleep(Math.min(left, retryMs * (0.5 + Math.random())));
      }
    },
    list: () => backend.list(),
    async close() {
      await Promise.all([...held].map((l) => l.release().catch(() => false)));
    },
  };
}
