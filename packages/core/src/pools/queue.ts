import type { CoreContext } from "../context.js";
import { slotMetrics } from "../slots/metrics.js";

/** Why a pool's pending tasks wait. */
export interface PendingByReason {
  /** No idle slot on a Ready pod (what more pods would help). */
  noSlot: number;
  /** An earlier task of their concurrency key is active or ahead of them. */
  keyBlocked: number;
  /** plan_and_apply tasks held back because reservations have reached maxReservedFraction. */
  reservedCap: number;
}

/** What the queue counts are computed from, per pool: one grouped query reads them for any number of pools. */
export interface QueueCounts {
  keyBlocked: number;
  pendingPlans: number;
  pendingOthers: number;
  runningPlans: number;
}

const EMPTY: QueueCounts = { keyBlocked: 0, pendingPlans: 0, pendingOthers: 0, runningPlans: 0 };

/** The queue counts of many pools in one statement (it reads the pools' pending and running tasks only). */
export async function queueCounts(ctx: CoreContext, poolIds: readonly string[]): Promise<Map<string, QueueCounts>> {
  const byPool = new Map<string, QueueCounts>(poolIds.map((id) => [id, { ...EMPTY }]));
  if (poolIds.length === 0) return byPool;
  const rows = await ctx.prisma.$queryRaw<{ poolId: string; keyBlocked: number; pendingPlans: number; pendingOthers: number; runningPlans: number }[]>`
    SELECT "poolId"::text AS "poolId",
      (count(*) FILTER (WHERE status = 'pending' AND "keyBlocked"))::int AS "keyBlocked",
      (count(*) FILTER (WHERE status = 'pending' AND NOT "keyBlocked" AND type = 'plan_and_apply'))::int AS "pendingPlans",
      (count(*) FILTER (WHERE status = 'pending' AND NOT "keyBlocked" AND type <> 'plan_and_apply'))::int AS "pendingOthers",
      (count(*) FILTER (WHERE status = 'running' AND type = 'plan_and_apply'))::int AS "runningPlans"
    FROM "Task" WHERE "poolId" = ANY(${[...poolIds]}::uuid[]) AND status IN ('pending', 'running')
    GROUP BY "poolId"`;
  for (const { poolId, ...counts } of rows) byPool.set(poolId, counts);
  return byPool;
}

/**
 * Whether the pool's plans are held back: reserved slots plus running plans (each about to reserve
 * its slot) have reached maxReservedFraction of the Ready pods' slots. The same rule as `berth_allocate`.
 */
export function plansCapped(pool: { maxReservedFraction: number; slotsPerPod: number }, readyPods: number, reservedSlots: number, runningPlans: number): boolean {
  if (pool.maxReservedFraction >= 1) return false;
  return reservedSlots + runningPlans >= Math.floor(pool.maxReservedFraction * pool.slotsPerPod * readyPods);
}

export function pendingByReason(counts: QueueCounts, capped: boolean): PendingByReason {
  return {
    noSlot: counts.pendingOthers + (capped ? 0 : counts.pendingPlans),
    keyBlocked: counts.keyBlocked,
    reservedCap: capped ? counts.pendingPlans : 0,
  };
}

export function recordPendingGauge(pool: string, pending: PendingByReason): void {
  slotMetrics.pendingByReason.set({ pool, reason: "no_slot" }, pending.noSlot);
  slotMetrics.pendingByReason.set({ pool, reason: "key_blocked" }, pending.keyBlocked);
  slotMetrics.pendingByReason.set({ pool, reason: "reserved_cap" }, pending.reservedCap);
}
