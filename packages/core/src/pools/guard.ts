import type { CoreContext } from "../context.js";
import type { Prisma } from "../db/index.js";
import { ConflictError } from "../errors.js";
import type { Lock, LockService } from "../locks/index.js";

/**
 * Held while one actor acts on a pool; extended while it acts. Shorter than the built-in jobs'
 * lock (10 s), so the pool guards of a replica that died mid-pass have expired by the time its
 * reconcile lock has, and the next pass can act at once.
 */
export const POOL_GUARD_TTL_MS = 8_000;

/** Another actor took the pool over (a newer fencing token): this one must not act on it any more. */
export class PoolGuardLostError extends Error {
  constructor(
    readonly pool: string,
    readonly detail: string,
  ) {
    super(`lost the guard of pool ${pool}: ${detail}`);
    this.name = "PoolGuardLostError";
  }
}

/** The pool is being acted on by someone else (a reconcile pass or another scale) right now. */
export class PoolBusyActingError extends ConflictError {
  constructor(readonly pool: string) {
    super(`pool ${pool} is being changed by another request or the reconcile pass; try again in a moment`);
  }
}

/**
 * The right to act on one pool, checked where the acts are written. The lock (Redis, or in
 * memory) keeps a second actor out; its fencing token, written on the Pool row when the guard is
 * taken and checked with the row locked FOR SHARE at the end of every acting transaction, stops
 * an actor that lost the lock without noticing (a long pause, a partition) the moment a newer one
 * has taken over. The Pool row is locked last, after any task, slot or pod (see the lock order in
 * the crash_only_core migration).
 */
export interface PoolGuard {
  readonly pool: { id: string; name: string };
  readonly token: bigint;
  /** Aborted when the lock is lost or the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Throws PoolGuardLostError when the signal says the guard is gone. */
  check(): void;
  /** Inside an acting transaction, last: throws (undoing it) unless this guard's token is still the pool's. */
  fence(tx: Prisma.TransactionClient): Promise<void>;
  /** Outside a transaction, before an act that is not a database write (a runtime call). */
  assert(): Promise<void>;
}

export class PoolGuards {
  constructor(
    private readonly ctx: CoreContext,
    private readonly locks: LockService,
  ) {}

  /**
   * Runs `act` holding the pool's guard. With `waitMs` 0 a busy pool is skipped (null); with a
   * wait it is waited for, then PoolBusyActingError. A guard lost mid-act surfaces as
   * PoolGuardLostError from the act's next check.
   */
  async run<T>(pool: { id: string; name: string }, act: (guard: PoolGuard) => Promise<T>, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<T | null> {
    const lock = await this.locks.acquire(`pool:${pool.id}`, POOL_GUARD_TTL_MS, { autoExtend: true, waitMs: options.waitMs ?? 0 });
    if (!lock) {
      if ((options.waitMs ?? 0) > 0) throw new PoolBusyActingError(pool.name);
      return null;
    }
    try {
      const guard = await this.enter(pool, lock, options.signal);
      return await act(guard);
    } finally {
      await lock.release().catch(() => false);
    }
  }

  private async enter(pool: { id: string; name: string }, lock: Lock, outer?: AbortSignal): Promise<PoolGuard> {
    const token = BigInt(lock.fencingToken);
    const taken = await this.ctx.prisma.$executeRawUnsafe(
      `UPDATE "Pool" SET "fenceToken" = $2::bigint WHERE id = $1::uuid AND ("fenceToken" IS NULL OR "fenceToken" <= $2::bigint)`,
      pool.id,
      token.toString(),
    );
    if (taken === 0) {
      const exists = await this.ctx.prisma.pool.findUnique({ where: { id: pool.id }, select: { id: true } });
      throw new PoolGuardLostError(pool.name, exists ? "a newer actor has already acted on it" : "the pool was deleted");
    }
    const signal = outer ? AbortSignal.any([lock.signal, outer]) : lock.signal;
    const check = () => {
      if (signal.aborted) throw new PoolGuardLostError(pool.name, describe(signal.reason));
    };
    const holds = async (db: Pick<Prisma.TransactionClient, "$queryRawUnsafe">, lockRow: boolean) => {
      const rows = await db.$queryRawUnsafe<unknown[]>(
        `SELECT 1 FROM "Pool" WHERE id = $1::uuid AND "fenceToken" = $2::bigint${lockRow ? " FOR SHARE" : ""}`,
        pool.id,
        token.toString(),
      );
      if (rows.length === 0) throw new PoolGuardLostError(pool.name, "a newer actor took the pool over");
    };
    return {
      pool,
      token,
      signal,
      check,
      fence: async (tx) => {
        check();
        await holds(tx, true);
      },
      assert: async () => {
        check();
        await holds(this.ctx.prisma, false);
      },
    };
  }
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? "aborted");
}
