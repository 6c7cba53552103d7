import { randomUUID } from "node:crypto";
import type { CoreContext } from "../context.js";
import { retryOnConflict, type Prisma, type Task } from "../db/index.js";
import { ValidationError } from "../errors.js";
import { taskMetrics } from "./metrics.js";

/** The same rule as a schedule's concurrency key: 1-128 printable ASCII characters, no spaces. */
export const CONCURRENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** Why a task that ended without running was cancelled: a later submission of its key superseded it. */
export const SUPERSEDED = "superseded";

/** The submission's concurrency key and supersede flag, checked; throws a ValidationError naming the field. */
export function validateConcurrency(input: { concurrencyKey?: string | null; supersede?: boolean | null }): { key: string | null; supersede: boolean } {
  const key = input.concurrencyKey ?? null;
  if (key !== null && (typeof key !== "string" || !CONCURRENCY_KEY.test(key))) {
    throw new ValidationError("concurrencyKey", "concurrencyKey must be 1-128 printable ASCII characters without spaces");
  }
  const supersede = input.supersede ?? false;
  if (supersede && key === null) throw new ValidationError("supersede", "supersede needs a concurrencyKey: it cancels the pending tasks of that key");
  return { key, supersede };
}

/**
 * Creates a task after cancelling the pending (not yet started) tasks of its concurrency key, in
 * one transaction under the key's lock (`berth_lock_key`, concurrency_keys migration). A pending
 * task another transaction holds at that moment is left to it (SKIP LOCKED: the lock review in
 * the migration): an allocation that is starting it, or a cancel. The new task then waits for it.
 */
export async function submitSuperseding(ctx: CoreContext, data: Prisma.TaskUncheckedCreateInput & { concurrencyKey: string | null }): Promise<Task> {
  const id = randomUUID();
  const key = data.concurrencyKey!;
  const superseded = await retryOnConflict(() =>
    ctx.prisma.$transaction(async (tx) => {
      // Lock order: the key's lock before the waiting tasks it cancels (see the migration).
      await tx.$executeRawUnsafe(`SELECT berth_lock_key($1::uuid, $2)`, data.poolId, key);
      const now = ctx.now();
      const cancelled = await tx.$executeRawUnsafe(
        `UPDATE "Task" SET status = 'cancelled', "failureReason" = '${SUPERSEDED}', error = $3, "finishedAt" = $4::timestamp(3), "updatedAt" = $4::timestamp(3)
         WHERE id IN (SELECT id FROM "Task" WHERE "poolId" = $1::uuid AND "concurrencyKey" = $2 AND status = 'pending' FOR UPDATE SKIP LOCKED)`,
        data.poolId,
        key,
        `superseded by task ${id}`,
        now,
      );
      const task = await tx.task.create({ data: { ...data, id } });
      return { task, cancelled };
    }),
  );
  if (superseded.cancelled > 0) taskMetrics.superseded.inc(superseded.cancelled);
  return superseded.task;
}

/**
 * The repair of concurrency keys, level-triggered (the reconcile pass runs it): a key with
 * waiting tasks and no holder gets its oldest one unblocked (`berth_unblock_keys`). Returns how
 * many keys it repaired; none unless an unblocking met a task locked by a transaction that left it.
 */
export async function unblockKeys(ctx: CoreContext, poolId: string): Promise<number> {
  const [row] = await ctx.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT berth_unblock_keys($1::uuid, $2::timestamp(3)) AS n`, poolId, ctx.now());
  return row?.n ?? 0;
}
