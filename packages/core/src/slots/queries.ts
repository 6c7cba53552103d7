import type { CoreContext } from "../context.js";
import type { Slot } from "../db/index.js";

/** The slots held by these tasks, keyed by task id (batched: one query for any number). */
export async function slotsForTasks(ctx: CoreContext, taskIds: readonly string[]): Promise<Map<string, Slot>> {
  const slots = await ctx.prisma.slot.findMany({ where: { taskId: { in: [...taskIds] } } });
  return new Map(slots.map((s) => [s.taskId!, s]));
}
