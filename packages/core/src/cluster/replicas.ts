// The replica registry: every API process upserts its row at each heartbeat, so the number of
// replicas is counted from the database, not taken from configuration. A row unseen for three
// heartbeats counts as gone; rows gone for a while are pruned by whichever replica beats next.
import type { CoreContext } from "../context.js";
import type { ClusterMode } from "./detect.js";

export interface ReplicaIdentity {
  id: string;
  version: string;
  startedAt: Date;
  mode: ClusterMode | string;
  host: string;
}

export interface ReplicaEntry extends ReplicaIdentity {
  lastSeenAt: Date;
  /** Seen within three heartbeats. */
  alive: boolean;
}

/** Heartbeats missed before a replica counts as gone. */
export const MISSED_HEARTBEATS = 3;
/** Gone replicas stay listed this many heartbeats (so a person sees which one went), then are pruned. */
export const PRUNE_AFTER_HEARTBEATS = 60;
/** Replicas listed at most. */
export const MAX_REPLICAS_LISTED = 200;

const goneBefore = (now: Date, heartbeatSeconds: number, beats: number) => new Date(now.getTime() - beats * heartbeatSeconds * 1000);

/** Writes this replica's row with `lastSeenAt` = now (one upsert), then prunes long-gone rows. */
export async function heartbeatReplica(ctx: CoreContext, self: ReplicaIdentity, heartbeatSeconds: number): Promise<void> {
  const now = ctx.now();
  const row = { version: self.version.slice(0, 64), startedAt: self.startedAt, mode: self.mode.slice(0, 32), host: self.host.slice(0, 255), lastSeenAt: now };
  await ctx.prisma.replica.upsert({ where: { id: self.id }, create: { id: self.id, ...row }, update: row });
  await pruneReplicas(ctx, heartbeatSeconds);
}

/** Deletes rows unseen for PRUNE_AFTER_HEARTBEATS; the number deleted. */
export async function pruneReplicas(ctx: CoreContext, heartbeatSeconds: number): Promise<number> {
  const { count } = await ctx.prisma.replica.deleteMany({ where: { lastSeenAt: { lt: goneBefore(ctx.now(), heartbeatSeconds, PRUNE_AFTER_HEARTBEATS) } } });
  return count;
}

/** A replica leaving cleanly removes its row at once. */
export async function removeReplica(ctx: CoreContext, id: string): Promise<void> {
  await ctx.prisma.replica.deleteMany({ where: { id } });
}

/** The registry, alive replicas first (oldest start first), then the gone ones not yet pruned. */
export async function listReplicas(ctx: CoreContext, heartbeatSeconds: number): Promise<ReplicaEntry[]> {
  const aliveAfter = goneBefore(ctx.now(), heartbeatSeconds, MISSED_HEARTBEATS);
  const rows = await ctx.prisma.replica.findMany({ orderBy: [{ lastSeenAt: "desc" }], take: MAX_REPLICAS_LISTED });
  return rows
    .map((r) => ({ ...r, alive: r.lastSeenAt >= aliveAfter }))
    .sort((a, b) => Number(b.alive) - Number(a.alive) || a.startedAt.getTime() - b.startedAt.getTime() || a.id.localeCompare(b.id));
}

/** Replicas alive now (seen within three heartbeats). */
export async function countAliveReplicas(ctx: CoreContext, heartbeatSeconds: number): Promise<number> {
  return ctx.prisma.replica.count({ where: { lastSeenAt: { gte: goneBefore(ctx.now(), heartbeatSeconds, MISSED_HEARTBEATS) } } });
}

/**
 * Beats now and every `heartbeatSeconds` until stopped; a failed beat is retried at the next one
 * (the registry is a view, never a reason to stop). `stop()` waits for a beat in flight and
 * removes the row.
 */
export function startReplicaHeartbeat(ctx: CoreContext, self: ReplicaIdentity, heartbeatSeconds: number): { first: Promise<void>; stop(): Promise<void> } {
  let inFlight: Promise<void> = Promise.resolve();
  const beat = () => (inFlight = heartbeatReplica(ctx, self, heartbeatSeconds).catch(() => {}));
  const first = beat();
  const timer = setInterval(beat, heartbeatSeconds * 1000);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    first,
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await inFlight;
        await removeReplica(ctx, self.id).catch(() => {});
      })()),
  };
}
