// The current state of slots and pools in the shape of their live events: what a subscriber
// is sent in place of a Resync marker, so that it converges whatever events were lost.
import type { CoreContext } from "../context.js";
import type { PoolChanged, SlotChanged } from "../events/index.js";
import { listPools } from "./queries.js";

/** Every slot of the pool's live pods, as SlotChanged events marked `resync`. */
export async function slotStates(ctx: CoreContext, pool: string): Promise<SlotChanged[]> {
  const at = ctx.now().toISOString();
  const slots = await ctx.prisma.slot.findMany({
    where: { pod: { pool: { name: pool } } },
    select: { index: true, state: true, taskId: true, pod: { select: { name: true } } },
    orderBy: [{ pod: { name: "asc" } }, { index: "asc" }],
  });
  return slots.map((s) => ({ pool, pod: s.pod.name, index: s.index, state: s.state, taskId: s.taskId, at, resync: true }));
}

/** Every pool's pod count and utilisation, as PoolChanged events marked `resync`. */
export async function poolStates(ctx: CoreContext): Promise<PoolChanged[]> {
  const at = ctx.now().toISOString();
  return (await listPools(ctx)).map((s) => ({ name: s.pool.name, podCount: s.podCount, utilization: s.utilization, at, resync: true }));
}
