import type { CoreContext } from "../context.js";
import type { Pool, Prisma } from "../db/index.js";
import { livePods, utilization, type PodSnapshot } from "./decide.js";
import { podSnapshots, type PoolCondition } from "./queries.js";

/** Makes conditions that keep their `lastTransitionAt` while their status stays the same. */
export function conditionMaker(previous: PoolCondition[], now: Date) {
  return (type: PoolCondition["type"], on: boolean, reason: string, message: string): PoolCondition => {
    const status = on ? "True" : "False";
    const before = previous.find((c) => c.type === type);
    return { type, status, reason, message, lastTransitionAt: before?.status === status ? before.lastTransitionAt : now.toISOString() };
  };
}

export interface PodCounts {
  live: number;
  ready: number;
  starting: number;
}

export function podCounts(pods: PodSnapshot[]): PodCounts {
  const live = livePods(pods);
  return {
    live: live.length,
    ready: live.filter((p) => p.phase === "Ready").length,
    starting: live.filter((p) => p.phase === "Pending" || p.phase === "Starting").length,
  };
}

/** Available: enough Ready pods for minPods (at least one), or nothing needed at all. */
export function availableCondition(make: ReturnType<typeof conditionMaker>, pool: Pick<Pool, "minPods">, counts: PodCounts, pendingTasks: number): PoolCondition {
  if (pool.minPods === 0 && counts.live === 0 && pendingTasks === 0) {
    return make("Available", true, "ScaledToZero", "no pods needed: the pool scales up when a task arrives");
  }
  const needed = Math.max(1, pool.minPods);
  const enough = counts.ready >= needed;
  return make("Available", enough, enough ? "PodsReady" : "NotEnoughReadyPods", `${counts.ready} of ${counts.live} pod(s) Ready, ${needed} needed`);
}

export async function saveConditions(ctx: CoreContext, pool: Pool, conditions: PoolCondition[]): Promise<void> {
  const previous = (pool.conditions as unknown as PoolCondition[]) ?? [];
  if (JSON.stringify(conditions) === JSON.stringify(previous)) return;
  await ctx.prisma.pool.update({ where: { id: pool.id }, data: { conditions: conditions as unknown as Prisma.InputJsonValue } });
}

/**
 * A pod of the pool became Ready: Available (and Progressing, once no pod is starting) follow
 * at once instead of at the next reconcile pass, which keeps Degraded and the rest. Consoles
 * watching the pool are told.
 */
export async function refreshReadiness(ctx: CoreContext, poolId: string): Promise<void> {
  const pool = await ctx.prisma.pool.findUnique({ where: { id: poolId } });
  if (!pool) return;
  const pods = await podSnapshots(ctx, pool.id);
  const counts = podCounts(pods);
  const pending = await ctx.prisma.task.count({ where: { poolId: pool.id, status: "pending" } });
  const previous = (pool.conditions as unknown as PoolCondition[]) ?? [];
  const make = conditionMaker(previous, ctx.now());
  const progressing = previous.find((c) => c.type === "Progressing");
  const conditions = [
    availableCondition(make, pool, counts, pending),
    counts.starting > 0
      ? make("Progressing", true, "PodsStarting", `${counts.starting} pod(s) starting`)
      : progressing?.reason === "PodsStarting"
        ? make("Progressing", false, "Stable", "every pod has started")
        : progressing,
    ...previous.filter((c) => c.type !== "Available" && c.type !== "Progressing"),
  ].filter((c): c is PoolCondition => c !== undefined);
  await saveConditions(ctx, pool, conditions);
  await publishPoolChanged(ctx, pool, pods);
}

/** Tells subscribers of `pool` its pod count and utilisation now; `pods` when already read. */
export async function publishPoolChanged(ctx: CoreContext, pool: Pool, pods?: PodSnapshot[]): Promise<void> {
  const live = livePods(pods ?? (await podSnapshots(ctx, pool.id)));
  await ctx.events.publish("pool", { name: pool.name, podCount: live.length, utilization: utilization(live), at: ctx.now().toISOString() });
}
