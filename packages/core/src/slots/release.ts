import type { CoreContext } from "../context.js";
import type { Prisma } from "../db/index.js";

type Tx = Prisma.TransactionClient;

export interface ReleasedSlot {
  pool: string;
  pod: string;
  index: number;
}

/** Closes the open audit record of the tasks `tasks` (ids, or a SELECT of ids) with the release note `note`. */
const closeAssignmentSql = (tasks: string, note: string) => `
  UPDATE "SlotAssignment" SET "releasedAt" = now(), "releaseNote" = ${note},
    "releasedSeq" = nextval(pg_get_serial_sequence('"SlotAssignment"', 'assignedSeq'))
  WHERE "taskId" IN (${tasks}) AND "releasedAt" IS NULL`;

/**
 * Frees the slot of the tasks `tasks` (ids, or a SELECT of ids) and closes their audit
 * records, in the statement these CTEs join: rows named `freed` (pod, index, pool). The
 * slot's next holder can only take it once this commits, so its assignment always comes
 * after this release in the audit sequence.
 */
export const releaseSlotCtes = (tasks: string, note: string) => `
freed AS (
  UPDATE "Slot" s SET state = 'idle', "taskId" = NULL, "reservedUntil" = NULL, "updatedAt" = now()
  FROM "Pod" p JOIN "Pool" pl ON pl.id = p."poolId"
  WHERE s."taskId" IN (${tasks}) AND p.id = s."podId"
  RETURNING p.name AS pod, s.index, pl.name AS pool
), closed AS (${closeAssignmentSql(tasks, note)}
  RETURNING id
)`;

const RELEASE = `WITH ${releaseSlotCtes("$1::uuid", "$2")} SELECT pod, index, pool FROM freed`;

/** Frees the slot a task holds (inside the caller's transaction) and closes its audit record. */
export async function releaseSlotOf(tx: Tx, taskId: string, note: string): Promise<ReleasedSlot | null> {
  const rows = await tx.$queryRawUnsafe<ReleasedSlot[]>(RELEASE, taskId, note);
  return rows[0] ?? null;
}

/** Closes the task's open audit record; call while holding the slot's row lock. */
export async function closeAssignment(tx: Tx, taskId: string, note: string): Promise<void> {
  await tx.$executeRawUnsafe(closeAssignmentSql("$1::uuid", "$2"), taskId, note);
}

export async function publishSlotChange(
  ctx: CoreContext,
  slot: { pool: string; pod: string; index: number },
  state: "idle" | "running" | "reserved",
  taskId: string | null,
): Promise<void> {
  await ctx.events.publish(`slot:${slot.pool}`, { ...slot, state, taskId, at: ctx.now().toISOString() });
}
