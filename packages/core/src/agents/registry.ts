import type { CoreContext } from "../context.js";
import type { Pod, Task } from "../db/index.js";
import { ForbiddenError } from "../errors.js";
import { refreshReadiness } from "../pools/conditions.js";
import { placePending } from "../slots/allocate.js";
import { PodLostError, PodNotFoundError } from "./errors.js";

/** Who is calling: an agent token may be limited to one pool. */
export interface AgentScope {
  poolId?: string | null;
}

async function findPod(ctx: CoreContext, name: string, scope: AgentScope): Promise<Pod & { pool: { id: string; name: string } }> {
  const pod = await ctx.prisma.pod.findUnique({ where: { name }, include: { pool: { select: { id: true, name: true } } } });
  if (!pod) throw new PodNotFoundError(name);
  if (scope.poolId && pod.poolId !== scope.poolId) throw new ForbiddenError(`this agent token may not act for pod ${name}`);
  if (pod.phase === "Lost") throw new PodLostError(name);
  return pod;
}

/**
 * The agent inside a pod says it is up: the pod becomes Ready (unless it is being drained)
 * and pending tasks of the pool are placed on its slots.
 */
export async function registerAgent(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<Pod> {
  const pod = await findPod(ctx, podName, scope);
  const now = ctx.now();
  const becomesReady = pod.phase === "Pending" || pod.phase === "Starting";
  const updated = await ctx.prisma.pod.update({
    where: { id: pod.id },
    data: {
      lastHeartbeatAt: now,
      ...(becomesReady ? { phase: "Ready", readyAt: now, phaseChangedAt: now } : {}),
    },
  });
  if (becomesReady) {
    await placePending(ctx, pod.pool);
    // Best effort: the next reconcile pass recomputes every condition anyway.
    await refreshReadiness(ctx, pod.pool.id).catch(() => {});
  }
  return updated;
}

export async function heartbeat(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<Date> {
  const pod = await findPod(ctx, podName, scope);
  const now = ctx.now();
  // Conditional on the phase so a heartbeat racing the lost-pod pass never revives a Lost pod.
  const { count } = await ctx.prisma.pod.updateMany({ where: { id: pod.id, phase: { not: "Lost" } }, data: { lastHeartbeatAt: now } });
  if (count === 0) throw new PodLostError(podName);
  return now;
}

export interface CurrentAssignment {
  task: Task;
  slotIndex: number;
  action: "run" | "apply";
}

/** What the pod's agent should be working on now: the level-triggered start of its assignment stream. */
export async function currentAssignments(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<CurrentAssignment[]> {
  const pod = await findPod(ctx, podName, scope);
  const slots = await ctx.prisma.slot.findMany({
    where: { podId: pod.id, state: "running", taskId: { not: null } },
    include: { task: true },
    orderBy: { index: "asc" },
  });
  return slots
    .filter((s): s is typeof s & { task: Task } => s.task !== null)
    .map((s) => ({ task: s.task, slotIndex: s.index, action: s.task.status === "applying" ? "apply" : "run" }));
}
