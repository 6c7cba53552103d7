import { createLockService } from "./service.js";
import type { LockBackend, LockInfo, LockService } from "./types.js";

interface Entry extends LockInfo {
  value: string;
}

/** Where in-process locks live; services sharing one store contend for the same keys (one per simulated replica). */
export interface MemoryLockStore {
  readonly locks: Map<string, Entry>;
  /** Last fencing token handed out per key; tokens only grow (see tryAcquire). */
  readonly fences: Map<string, number>;
}

export function createMemoryLockStore(): MemoryLockStore {
  return { locks: new Map(), fences: new Map() };
}

const sharedStore = createMemoryLockStore();

export interface MemoryLockServiceOptions {
  replicaId: string;
  /** Decides expiry; tests move it instead of waiting. */
  clock?: () => Date;
  /** Defaults to one store per process, as in the embedded single-process mode. */
  store?: MemoryLockStore;
}

/** The embedded LockService: one process, no Redis. */
export function createMemoryLockService({ replicaId, clock = () => new Date(), store = sharedStore }: MemoryLockServiceOptions): LockService {
  const live = (key: string): Entry | undefined => {
    const entry = store.locks.get(key);
    if (entry && entry.expiresAt.getTime() <= clock().getTime()) {
      store.locks.delete(key);
      return undefined;
    }
    return entry;
  };

  const backend: LockBackend = {
    async tryAcquire(key, holder, ttlMs) {
      if (live(key)) return null;
      const acquiredAt = clock();
      // As in Redis: never below the time in ms × 1000, so a process that starts again (an
      // empty store) still hands out tokens above those of its previous life.
      const fencingToken = Math.max((store.fences.get(key) ?? 0) + 1, acquiredAt.getTime() * 1000);
      store.fences.set(key, fencingToken);
      const entry: Entry = { key, holder, fencingToken, acquiredAt, expiresAt: new Date(acquiredAt.getTime() + ttlMs), value: `${fencingToken}:${holder}` };
      store.locks.set(key, entry);
      return { fencingToken, value: entry.value, acquiredAt, expiresAt: entry.expiresAt };
    },
    async extend(key, value, ttlMs) {
      const entry = live(key);
      if (!entry) return "gone";
      if (entry.value !== value) return "taken";
      entry.expiresAt = new Date(clock().getTime() + ttlMs);
      return entry.expiresAt;
    },
    async release(key, value) {
      const entry = live(key);
      if (!entry || entry.value !== value) return false;
      store.locks.delete(key);
      return true;
    },
    async list() {
      return [...store.locks.keys()]
        .map(live)
        .filter((e): e is Entry => e !== undefined)
        .map(({ key, holder, fencingToken, acquiredAt, expiresAt }) => ({ key, holder, fencingToken, acquiredAt, expiresAt }));
    },
  };
  return createLockService(backend, replicaId);
}
