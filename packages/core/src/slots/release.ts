import type { CoreContext } from "../context.js";
import type { Prisma } from "../db/index.js";

type Tx = Prisma.TransactionClient;

export interface ReleasedSlot {
  pool: string;
  pod: string;
  index: number;
}

/** Frees the slot a task holds (inside the caller's transaction) and closes its audit record, in one statement: `berth_release_slot`. */
export async function releaseSlotOf(tx: Tx, taskId: string, note: string): Promise<ReleasedSlot | null> {
  const rows = await tx.$queryRawUnsafe<ReleasedSlot[]>(`SELECT pod, index, pool FROM berth_release_slot($1::uuid, $2)`, taskId, note);
  return rows[0] ?? null;
}

/** Closes the task's open audit record; call while holding the slot's row lock. `berth_close_assignment`. */
export async function closeAssignment(tx: Tx, taskId: string, note: string): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT berth_close_assignment($1::uuid, $2)`, taskId, note);
}

export async function publishSlotChange(
  ctx: CoreContext,
  slot: { pool: string; pod: string; index: number },
  state: "idle" | "running" | "reserved",
  taskId: string | null,
): Promise<void> {
  await ctx.events.publish(`slot:${slot.pool}`, { ...slot, state, taskId, at: ctx.now().toISOString() });
}
