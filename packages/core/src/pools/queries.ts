import type { CoreContext } from "../context.js";
import type { Pool, Pod, ScalingEvent, Slot, Task } from "../db/index.js";
import { countSlots, livePods, utilization, type PodSnapshot } from "./decide.js";
import { PoolNotFoundError } from "./errors.js";
import { pendingByReason, plansCapped, queueCounts, recordPendingGauge, type PendingByReason } from "./queue.js";
import type { PoolSpec } from "./spec.js";
import { activeCapacityWindows, type ActiveCapacityWindow, type CapacityWindow } from "./windows.js";
import type { TaskTypeSpec } from "./task-types.js";

export interface PoolCondition {
  type: "Available" | "Progressing" | "Degraded";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionAt?: string;
}

export interface PoolSummary {
  pool: Pool;
  podCount: number;
  busySlots: number;
  reservedSlots: number;
  idleSlots: number;
  totalSlots: number;
  pendingTasks: number;
  /** Why the pending tasks wait. */
  pendingByReason: PendingByReason;
  /** Slot-seconds spent reserved: ended reservations plus the open ones up to now. */
  reservedSlotSeconds: number;
  utilization: number;
  conditions: PoolCondition[];
  /** The pods with slots and tasks, when the caller asked for them along with the summary. */
  pods?: PodWithSlots[];
}

export type PodWithSlots = Pod & { slots: (Slot & { task: Task | null })[] };

export function toSnapshot(pods: (Pick<Pod, "name" | "phase" | "createdAt" | "readyAt"> & { slots: Pick<Slot, "state">[] })[]): PodSnapshot[] {
  return pods.map((p) => ({ name: p.name, phase: p.phase, createdAt: p.createdAt, readyAt: p.readyAt, slots: p.slots.map((s) => s.state) }));
}

export function specOf(pool: Pool): PoolSpec {
  return {
    name: pool.name,
    runtime: pool.runtime,
    namespace: pool.namespace,
    image: pool.image,
    podTemplate: (pool.podTemplate as Record<string, unknown> | null) ?? null,
    slotsPerPod: pool.slotsPerPod,
    minPods: pool.minPods,
    maxPods: pool.maxPods,
    scaleUpAt: pool.scaleUpAt,
    scaleDownAt: pool.scaleDownAt,
    scaleUpCooldownSeconds: pool.scaleUpCooldownSeconds,
    scaleDownCooldownSeconds: pool.scaleDownCooldownSeconds,
    stabilizationWindowSeconds: pool.stabilizationWindowSeconds,
    maxStep: pool.maxStep,
    scaleUpMaxStep: pool.scaleUpMaxStep,
    maxTasksPerPod: pool.maxTasksPerPod,
    maxPodAgeSeconds: pool.maxPodAgeSeconds,
    capacityWindows: (pool.capacityWindows as unknown as CapacityWindow[] | null) ?? [],
    newPodGraceSeconds: pool.newPodGraceSeconds,
    reservationTtlSeconds: pool.reservationTtlSeconds,
    autoscale: pool.autoscale,
    lostPodPolicy: pool.lostPodPolicy as PoolSpec["lostPodPolicy"],
    maxAttempts: pool.maxAttempts,
    taskTimeoutSeconds: pool.taskTimeoutSeconds,
    timeoutPolicy: pool.timeoutPolicy as PoolSpec["timeoutPolicy"],
    stopGraceSeconds: pool.stopGraceSeconds,
    podPolicyOverride: pool.podPolicyOverride,
    taskTypes: (pool.taskTypes as TaskTypeSpec[] | null) ?? null,
    maxReservedFraction: pool.maxReservedFraction,
  };
}

/** What the autoscaler reads of a pool's pods: phases, ages and slot states only. */
export async function podSnapshots(ctx: CoreContext, poolId: string): Promise<PodSnapshot[]> {
  const pods = await ctx.prisma.pod.findMany({
    where: { poolId },
    orderBy: [{ createdAt: "asc" }, { name: "asc" }],
    select: { name: true, phase: true, createdAt: true, readyAt: true, slots: { select: { state: true }, orderBy: { index: "asc" } } },
  });
  return toSnapshot(pods);
}

export async function getPool(ctx: CoreContext, name: string): Promise<Pool> {
  const pool = await ctx.prisma.pool.findUnique({ where: { name } });
  if (!pool) throw new PoolNotFoundError(name);
  return pool;
}

/** Pods of the pool with their slots and the tasks on them, in creation order. */
export async function listPods(ctx: CoreContext, poolId: string): Promise<PodWithSlots[]> {
  return (await podsOfPools(ctx, [poolId])).get(poolId) ?? [];
}

/** Pods of many pools with slots and tasks, in a constant number of queries. */
export async function podsOfPools(ctx: CoreContext, poolIds: readonly string[]): Promise<Map<string, PodWithSlots[]>> {
  const pods = await ctx.prisma.pod.findMany({
    where: { poolId: { in: [...poolIds] } },
    orderBy: [{ createdAt: "asc" }, { name: "asc" }],
    include: { slots: { orderBy: { index: "asc" }, include: { task: true } } },
  });
  const byPool = new Map<string, PodWithSlots[]>(poolIds.map((id) => [id, []]));
  for (const pod of pods) byPool.get(pod.poolId)?.push(pod);
  return byPool;
}

/** Pods by name (batched), for tasks that name where they ran. */
export async function podsByName(ctx: CoreContext, names: readonly string[]): Promise<Map<string, Pod>> {
  const pods = await ctx.prisma.pod.findMany({ where: { name: { in: [...names] } } });
  return new Map(pods.map((p) => [p.name, p]));
}

/** Pools by id (batched). */
export async function poolsById(ctx: CoreContext, ids: readonly string[]): Promise<Map<string, Pool>> {
  const pools = await ctx.prisma.pool.findMany({ where: { id: { in: [...ids] } } });
  return new Map(pools.map((p) => [p.id, p]));
}

/** Summaries of many pools in a constant number of queries. */
export async function summarizePools(ctx: CoreContext, pools: Pool[], options: { withPods?: boolean } = {}): Promise<PoolSummary[]> {
  if (pools.length === 0) return [];
  const ids = pools.map((p) => p.id);
  const [pods, queues] = await Promise.all([
    options.withPods
      ? [...(await podsOfPools(ctx, ids)).values()].flat()
      : ctx.prisma.pod.findMany({
          where: { poolId: { in: ids } },
          select: { poolId: true, name: true, phase: true, createdAt: true, readyAt: true, slots: { select: { state: true, updatedAt: true } } },
        }),
    queueCounts(ctx, ids),
  ]);
  const now = ctx.now().getTime();
  return pools.map((pool) => {
    const all = pods.filter((p) => p.poolId === pool.id);
    const mine = livePods(toSnapshot(all));
    const slots = countSlots(mine);
    const queue = queues.get(pool.id)!;
    const ready = all.filter((p) => p.phase === "Ready").length;
    const waiting = pendingByReason(queue, plansCapped(pool, ready, slots.reserved, queue.runningPlans));
    recordPendingGauge(pool.name, waiting);
    const openReserved = all.flatMap((p) => p.slots).filter((s) => s.state === "reserved").reduce((sum, s) => sum + Math.max(0, now - s.updatedAt.getTime()) / 1000, 0);
    return {
      pool,
      podCount: mine.length,
      busySlots: slots.running,
      reservedSlots: slots.reserved,
      idleSlots: slots.idle,
      totalSlots: slots.total,
      pendingTasks: queue.keyBlocked + queue.pendingPlans + queue.pendingOthers,
      pendingByReason: waiting,
      reservedSlotSeconds: pool.reservedSlotSeconds + openReserved,
      utilization: utilization(mine),
      conditions: (pool.conditions as unknown as PoolCondition[]) ?? [],
      ...(options.withPods ? { pods: all as PodWithSlots[] } : {}),
    };
  });
}

/** How many pools exist: what a list of all pools costs to produce. */
export async function countPools(ctx: CoreContext): Promise<number> {
  return ctx.prisma.pool.count();
}

export async function listPools(ctx: CoreContext): Promise<PoolSummary[]> {
  return summarizePools(ctx, await ctx.prisma.pool.findMany({ orderBy: { name: "asc" } }));
}

/** The pool's summary (with its pods, slots and tasks), or null when no pool has that name. */
export async function findPoolSummary(ctx: CoreContext, name: string): Promise<PoolSummary | null> {
  const pool = await ctx.prisma.pool.findUnique({ where: { name } });
  return pool ? ((await summarizePools(ctx, [pool], { withPods: true }))[0] ?? null) : null;
}

export async function poolSummary(ctx: CoreContext, name: string): Promise<PoolSummary> {
  const [summary] = await summarizePools(ctx, [await getPool(ctx, name)]);
  return summary!;
}

export async function listScalingEvents(ctx: CoreContext, poolId: string, last = 50): Promise<ScalingEvent[]> {
  return ctx.prisma.scalingEvent.findMany({ where: { poolId }, orderBy: { at: "desc" }, take: Math.min(Math.max(last, 1), 500) });
}

/**
 * The last `last` scaling events of each pool, newest first, for any number of pools in two
 * statements (a window over the (poolId, at) index picks the ids, then the rows are read).
 */
export async function scalingEventsOfPools(ctx: CoreContext, poolIds: readonly string[], last = 50): Promise<Map<string, ScalingEvent[]>> {
  const take = Math.min(Math.max(last, 1), 500);
  const byPool = new Map<string, ScalingEvent[]>(poolIds.map((id) => [id, []]));
  if (poolIds.length === 0) return byPool;
  const ids = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM (
      SELECT id, ROW_NUMBER() OVER (PARTITION BY "poolId" ORDER BY "at" DESC) AS rank
      FROM "ScalingEvent" WHERE "poolId" = ANY(${[...poolIds]}::uuid[])
    ) ranked WHERE rank <= ${take}`;
  const events = await ctx.prisma.scalingEvent.findMany({ where: { id: { in: ids.map((r) => r.id) } }, orderBy: { at: "desc" } });
  for (const event of events) byPool.get(event.poolId)?.push(event);
  return byPool;
}

/** The slots of many pods with their tasks, by pod id and index (batched: one query for any number). */
export async function slotsOfPods(ctx: CoreContext, podIds: readonly string[]): Promise<Map<string, (Slot & { task: Task | null })[]>> {
  const byPod = new Map<string, (Slot & { task: Task | null })[]>(podIds.map((id) => [id, []]));
  const slots = await ctx.prisma.slot.findMany({ where: { podId: { in: [...podIds] } }, orderBy: [{ podId: "asc" }, { index: "asc" }], include: { task: true } });
  for (const slot of slots) byPod.get(slot.podId)?.push(slot);
  return byPod;
}

/** One pod's slots with their tasks, by index. */
export async function slotsOfPod(ctx: CoreContext, podId: string): Promise<(Slot & { task: Task | null })[]> {
  return ctx.prisma.slot.findMany({ where: { podId }, orderBy: { index: "asc" }, include: { task: true } });
}

/** The first capacity window of the pool in effect now (prewarm lead included), or null. */
export function activeCapacityWindowOf(ctx: CoreContext, pool: Pool): ActiveCapacityWindow | null {
  return activeCapacityWindows(specOf(pool).capacityWindows, ctx.now())[0] ?? null;
}
