// Utilisation over time: the reconcile pass samples each pool into PoolSample (at most one row
// per pool per interval), housekeeping prunes rows past the retention, and readers get a bounded
// series for the last hour (raw) or day (averaged into fixed buckets).
import type { CoreContext } from "../context.js";
import type { Prisma, ScalingEvent } from "../db/index.js";
import { livePods, type PodSnapshot } from "./decide.js";
import type { PendingByReason } from "./queue.js";

export const DEFAULT_SAMPLE_INTERVAL_SECONDS = 15;
export const DEFAULT_SAMPLE_RETENTION_SECONDS = 7 * 86_400;

export type UtilisationRange = "HOUR" | "DAY";

export const RANGE_SECONDS: Record<UtilisationRange, number> = { HOUR: 3_600, DAY: 86_400 };
/** Points returned for a range at most: an hour of 5-second samples; a day in 5-minute buckets. */
export const MAX_HOUR_POINTS = 720;
export const DAY_BUCKET_SECONDS = 300;
/** Scaling events returned with a range at most (newest kept). */
export const MAX_RANGE_EVENTS = 500;

export interface UtilisationSample {
  busySlots: number;
  reservedSlots: number;
  idleSlots: number;
  startingSlots: number;
  pendingTasks: number;
  podCount: number;
  /** Pending tasks by why they wait (see PendingByReason). */
  pendingNoSlot: number;
  pendingKeyBlocked: number;
  pendingReservedCap: number;
}

export interface UtilisationPoint extends UtilisationSample {
  at: Date;
}

export interface PoolUtilisation {
  range: UtilisationRange;
  from: Date;
  to: Date;
  /** Seconds one point stands for: the sampling interval for an hour, the bucket for a day. */
  stepSeconds: number;
  points: UtilisationPoint[];
  events: ScalingEvent[];
}

/**
 * What one sample holds, from the pass's snapshot: running and reserved slots of live pods,
 * idle slots of pods that can take work (Ready) or are being emptied (Draining), slots of pods
 * not yet started apart, live pods (Lost and Terminating pods are not counted), and the pending
 * queue by reason (from the same pass's count of the queue).
 */
export function sampleOf(pods: PodSnapshot[], pendingTasks: number, waiting: PendingByReason = NOT_WAITING): UtilisationSample {
  const live = livePods(pods);
  const starting = live.filter((p) => p.phase === "Pending" || p.phase === "Starting");
  const serving = live.filter((p) => p.phase === "Ready" || p.phase === "Draining");
  const slots = serving.flatMap((p) => p.slots);
  return {
    busySlots: live.flatMap((p) => p.slots).filter((s) => s === "running").length,
    reservedSlots: live.flatMap((p) => p.slots).filter((s) => s === "reserved").length,
    idleSlots: slots.filter((s) => s === "idle").length,
    startingSlots: starting.flatMap((p) => p.slots).filter((s) => s === "idle").length,
    pendingTasks,
    podCount: live.length,
    pendingNoSlot: waiting.noSlot,
    pendingKeyBlocked: waiting.keyBlocked,
    pendingReservedCap: waiting.reservedCap,
  };
}

const NOT_WAITING: PendingByReason = { noSlot: 0, keyBlocked: 0, reservedCap: 0 };

/**
 * Writes a sample unless the pool has one younger than `intervalSeconds`, in one statement;
 * `tx` is the caller's fenced transaction (the pass that holds the pool's guard). True when written.
 */
export async function recordSample(
  tx: Prisma.TransactionClient,
  poolId: string,
  sample: UtilisationSample,
  at: Date,
  intervalSeconds: number,
): Promise<boolean> {
  // A little slack, so a pass every 5 s on a 15 s interval samples every third pass, not fourth.
  const since = new Date(at.getTime() - intervalSeconds * 1000 + 500);
  const written = await tx.$executeRaw`
    INSERT INTO "PoolSample" ("poolId", "at", "busySlots", "reservedSlots", "idleSlots", "startingSlots", "pendingTasks", "podCount",
                              "pendingNoSlot", "pendingKeyBlocked", "pendingReservedCap")
    SELECT ${poolId}::uuid, ${at}::timestamp(3), ${sample.busySlots}, ${sample.reservedSlots}, ${sample.idleSlots}, ${sample.startingSlots}, ${sample.pendingTasks}, ${sample.podCount},
           ${sample.pendingNoSlot}, ${sample.pendingKeyBlocked}, ${sample.pendingReservedCap}
    WHERE NOT EXISTS (SELECT 1 FROM "PoolSample" WHERE "poolId" = ${poolId}::uuid AND "at" > ${since}::timestamp(3))`;
  return written > 0;
}

/** Deletes samples older than the retention; the number deleted. */
export async function pruneSamples(ctx: CoreContext, retentionSeconds: number): Promise<number> {
  const before = new Date(ctx.now().getTime() - retentionSeconds * 1000);
  const { count } = await ctx.prisma.poolSample.deleteMany({ where: { at: { lt: before } } });
  return count;
}

/** A pool's utilisation over the last hour or day, and its scaling events in that time. */
export async function poolUtilisation(ctx: CoreContext, poolId: string, range: UtilisationRange, intervalSeconds = DEFAULT_SAMPLE_INTERVAL_SECONDS): Promise<PoolUtilisation> {
  const to = ctx.now();
  const from = new Date(to.getTime() - RANGE_SECONDS[range] * 1000);
  const events = (
    await ctx.prisma.scalingEvent.findMany({ where: { poolId, at: { gte: from, lte: to } }, orderBy: { at: "desc" }, take: MAX_RANGE_EVENTS })
  ).reverse();
  if (range === "HOUR") {
    const rows = await ctx.prisma.poolSample.findMany({
      where: { poolId, at: { gte: from, lte: to } },
      orderBy: { at: "desc" },
      take: MAX_HOUR_POINTS,
      select: { at: true, busySlots: true, reservedSlots: true, idleSlots: true, startingSlots: true, pendingTasks: true, podCount: true,
        pendingNoSlot: true, pendingKeyBlocked: true, pendingReservedCap: true },
    });
    return { range, from, to, stepSeconds: intervalSeconds, points: rows.reverse(), events };
  }
  const rows = await ctx.prisma.$queryRaw<(Omit<UtilisationPoint, "at"> & { bucket: number })[]>`
    SELECT floor(extract(epoch FROM "at") / ${DAY_BUCKET_SECONDS})::int AS bucket,
           avg("busySlots")::float8 AS "busySlots", avg("reservedSlots")::float8 AS "reservedSlots",
           avg("idleSlots")::float8 AS "idleSlots", avg("startingSlots")::float8 AS "startingSlots",
           avg("pendingTasks")::float8 AS "pendingTasks", avg("podCount")::float8 AS "podCount",
           avg("pendingNoSlot")::float8 AS "pendingNoSlot", avg("pendingKeyBlocked")::float8 AS "pendingKeyBlocked",
           avg("pendingReservedCap")::float8 AS "pendingReservedCap"
    FROM "PoolSample" WHERE "poolId" = ${poolId}::uuid AND "at" >= ${from}::timestamp(3) AND "at" <= ${to}::timestamp(3)
    GROUP BY bucket ORDER BY bucket`;
  const points = rows.map(({ bucket, ...values }) => ({ ...values, at: new Date(Number(bucket) * DAY_BUCKET_SECONDS * 1000) }));
  return { range, from, to, stepSeconds: DAY_BUCKET_SECONDS, points, events };
}
