import type { CoreContext } from "../context.js";
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
 * Places the oldest pending task of the pool on one idle slot of a Ready pod, in one
 * statement. Rows are claimed with FOR UPDATE SKIP LOCKED, so concurrent allocators (in
 * any number of processes) never take the same task or the same slot; the slot update is
 * guarded by `state = 'idle'` as well. Bin-packing: the Ready pod with the most busy slots
 * first, so that other pods empty out and can be scaled down.
 */
const allocateOne = `
WITH task AS (
  SELECT t.id, t.type, t."createdAt"
  FROM "Task" t
  WHERE t."poolId" = $1::uuid AND t.status = 'pending'
  ORDER BY t.seq
  LIMIT 1
  FOR UPDATE SKIP LOCKED
), busy AS (
  SELECT b."podId", count(*) FILTER (WHERE b.state <> 'idle') AS n
  FROM "Slot" b JOIN "Pod" bp ON bp.id = b."podId"
  WHERE bp."poolId" = $1::uuid AND bp.phase = 'Ready' AND EXISTS (SELECT 1 FROM task)
  GROUP BY b."podId"
), slot AS (
  SELECT s.id, s.index, p.name AS pod_name
  FROM "Slot" s
  JOIN "Pod" p ON p.id = s."podId"
  JOIN busy ON busy."podId" = s."podId"
  WHERE p."poolId" = $1::uuid AND p.phase = 'Ready' AND s.state = 'idle'
  ORDER BY busy.n DESC, p."createdAt", p.name, s.index
  LIMIT 1
  FOR UPDATE OF s SKIP LOCKED
), taken AS (
  UPDATE "Slot" s
  SET state = 'running', "taskId" = task.id, "reservedUntil" = NULL, "updatedAt" = now()
  FROM task, slot
  WHERE s.id = slot.id AND s.state = 'idle'
  RETURNING s.id, s.index, s."taskId"
), started AS (
  UPDATE "Task" t
  SET status = 'running', "podName" = slot.pod_name, "slotIndex" = taken.index,
      "startedAt" = now(), attempts = t.attempts + 1, "updatedAt" = now()
  FROM taken, slot
  WHERE t.id = taken."taskId"
  RETURNING t.id
), audit AS (
  INSERT INTO "SlotAssignment" (id, "slotId", "podName", "slotIndex", "taskId")
  SELECT gen_random_uuid(), taken.id, slot.pod_name, taken.index, taken."taskId" FROM taken, slot
  RETURNING id
)
SELECT task.id AS "taskId", task.type AS "taskType", task."createdAt" AS "createdAt",
       slot.pod_name AS "podName", taken.index AS "slotIndex",
       (SELECT count(*) FROM started)::int AS started, (SELECT count(*) FROM audit)::int AS audited
FROM task, slot, taken`;

type Row = Omit<Placement, "pool"> & { started: number; audited: number };

/** Places one pending task of the pool if a slot is free; null when there is no task or no slot. */
export async function allocateOnce(ctx: CoreContext, pool: { id: string; name: string }): Promise<Placement | null> {
  const rows = await ctx.prisma.$queryRawUnsafe<Row[]>(allocateOne, pool.id);
  const row = rows[0];
  if (!row) {
    slotMetrics.allocations.inc({ pool: pool.name, outcome: "none" });
    return null;
  }
  const createdAt = new Date(row.createdAt);
  slotMetrics.allocations.inc({ pool: pool.name, outcome: "placed" });
  slotMetrics.waitSeconds.observe({ pool: pool.name }, Math.max(0, (Date.now() - createdAt.getTime()) / 1000));
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
