import { typeLabel } from "../tasks/metrics.js";
import { freshAfter, type CoreContext } from "../context.js";
import { slotMetrics } from "./metrics.js";
import { publishSlotChange } from "./release.js";

export interface Placement {
  taskId: string;
  taskType: string;
  createdAt: Date;
  pool: string;
  podName: string;
  slotIndex: number;
}

/**
 * Places the oldest runnable pending task of the pool (not held back by its concurrency key or
 * the pool's reserved-capacity cap) on one idle slot of a Ready pod whose agent is answering,
 * bin-packing, in one statement with FOR UPDATE SKIP LOCKED: see `berth_allocate`
 * (concurrency_keys migration). It lives in a PL/pgSQL function so that its plan is prepared
 * once per connection. It takes its task, slot and the slot's pod row (for the pod's counters)
 * with SKIP LOCKED and never waits, so it takes part in no deadlock.
 */
const allocateOne = `
SELECT "taskId"::text AS "taskId", "taskType", "podName", "slotIndex",
       (extract(epoch FROM "createdAt") * 1000)::float8 AS "createdAtMs", (extract(epoch FROM "queuedAt") * 1000)::float8 AS "queuedAtMs"
FROM berth_allocate($1::uuid, $2::timestamp(3), $3::timestamp(3))`;

type Row = { taskId: string; taskType: string; podName: string; slotIndex: number; createdAtMs: number; queuedAtMs: number };

/** Places one pending task of the pool if a slot is free; null when there is no task or no slot. */
export async function allocateOnce(ctx: CoreContext, pool: { id: string; name: string }): Promise<Placement | null> {
  const rows = await ctx.prisma.$queryRawUnsafe<Row[]>(allocateOne, pool.id, ctx.now(), freshAfter(ctx));
  const row = rows[0];
  if (!row) {
    slotMetrics.allocations.inc({ pool: pool.name, outcome: "none" });
    return null;
  }
  const createdAt = new Date(row.createdAtMs);
  const at = ctx.now().getTime();
  const sinceSubmit = Math.max(0, (at - createdAt.getTime()) / 1000);
  slotMetrics.allocations.inc({ pool: pool.name, outcome: "placed" });
  slotMetrics.waitSeconds.observe({ pool: pool.name }, sinceSubmit);
  slotMetrics.submitToStartSeconds.observe({ pool: pool.name, type: typeLabel(row.taskType) }, sinceSubmit);
  slotMetrics.queueWaitSeconds.observe({ pool: pool.name, type: typeLabel(row.taskType) }, Math.max(0, (at - row.queuedAtMs) / 1000));
  const placement: Placement = {
    taskId: row.taskId,
    taskType: row.taskType,
    createdAt,
    pool: pool.name,
    podName: row.podName,
    slotIndex: row.slotIndex,
  };
  await publishSlotChange(ctx, { pool: pool.name, pod: placement.podName, index: placement.slotIndex }, "running", placement.taskId);
  await ctx.events.publish(`assignment:${placement.podName}`, {
    pod: placement.podName,
    slotIndex: placement.slotIndex,
    taskId: placement.taskId,
    action: "run",
  });
  return placement;
}

/**
 * Places pending tasks of the pool, oldest first, until no task or no slot is left.
 * Bounded by `max` so one call never runs away under a flood of submissions.
 */
export async function placePending(ctx: CoreContext, pool: { id: string; name: string }, max = 1000): Promise<Placement[]> {
  const placed: Placement[] = [];
  while (placed.length < max) {
    const p = await allocateOnce(ctx, pool);
    if (!p) break;
    placed.push(p);
  }
  return placed;
}
