/** A held lock: the caller owns `key` until it releases, lets it expire, or loses it. */
export interface Lock {
  readonly key: string;
  /** Replica id of the holder (this process). */
  readonly holder: string;
  /**
   * Grows with every acquisition of `key`, across replicas and restarts: a resource that only
   * accepts writes carrying the highest token it has seen rejects a holder that lost the lock.
   */
  readonly fencingToken: number;
  readonly acquiredAt: Date;
  /** When the lock expires unless extended; moves forward on each extension. */
  readonly expiresAt: Date;
  /** Aborted (reason: a LockLostError) once the lock is lost: taken over, gone, or expired unextended. */
  readonly signal: AbortSignal;
  /** Pushes the expiry to now + ttlMs (default: the ttl it was acquired with); throws LockLostError when no longer held. */
  extend(ttlMs?: number): Promise<void>;
  /** Frees the lock if still ours; false when it was already gone or someone else's. Idempotent. */
  release(): Promise<boolean>;
}

export interface AcquireOptions {
  /** Keep retrying until this many milliseconds have passed (default 0: one attempt). */
  waitMs?: number;
  /** Pause between attempts while waiting (default 50 ms, with jitter). */
  retryMs?: number;
  /** Extend the lock every ttl/3 while held, until release or loss. */
  autoExtend?: boolean;
}

/** One held lock as `list()` reports it. */
export interface LockInfo {
  key: string;
  holder: string;
  fencingToken: number;
  acquiredAt: Date;
  expiresAt: Date;
}

export interface LockService {
  readonly replicaId: string;
  /** The lock, or null when someone holds `key` (after `waitMs`, if given). */
  acquire(key: string, ttlMs: number, options?: AcquireOptions): Promise<Lock | null>;
  /** Every lock currently held, by any replica. */
  list(): Promise<LockInfo[]>;
  /** Releases the locks this service still holds and stops their extension. */
  close(): Promise<void>;
}

/** What a storage backend (memory, Redis) provides; the shared service adds waiting, extension and metrics. */
export interface LockBackend {
  /** Atomically takes `key` when free, with a fresh fencing token; null when held. */
  tryAcquire(key: string, holder: string, ttlMs: number): Promise<{ fencingToken: number; value: string; acquiredAt: Date; expiresAt: Date } | null>;
  /** The new expiry when `key` still holds `value`; otherwise whether it is gone or held by another token. */
  extend(key: string, value: string, ttlMs: number): Promise<Date | "gone" | "taken">;
  /** Deletes `key` only while it still holds `value`. */
  release(key: string, value: string): Promise<boolean>;
  list(): Promise<LockInfo[]>;
}
