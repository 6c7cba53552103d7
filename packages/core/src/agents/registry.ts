import type { CoreContext } from "../context.js";
import type { Pod, Task } from "../db/index.js";
import { ForbiddenError } from "../errors.js";
import { Counter, metric, registry } from "../metrics/index.js";
import { refreshReadiness } from "../pools/conditions.js";
import { placePending } from "../slots/allocate.js";
import { PodLostError, PodNotFoundError, PodTerminatingError } from "./errors.js";

export const agentRestarts = () =>
  metric(
    "berth_agent_restarts_total",
    () => new Counter({ name: "berth_agent_restarts_total", help: "Registrations of a pod already registered: its agent started again", labelNames: ["pool"], registers: [registry] }),
  );

/** Who is calling: an agent token may be limited to one pool. */
export interface AgentScope {
  poolId?: string | null;
}

export type AgentPod = Pod & { pool: { id: string; name: string } };

export async function findAgentPod(ctx: CoreContext, name: string, scope: AgentScope): Promise<AgentPod> {
  const pod = await ctx.prisma.pod.findUnique({ where: { name }, include: { pool: { select: { id: true, name: true } } } });
  if (!pod) throw new PodNotFoundError(name);
  if (scope.poolId && pod.poolId !== scope.poolId) throw new ForbiddenError(`this agent token may not act for pod ${name}`);
  if (pod.phase === "Lost") throw new PodLostError(name);
  return pod;
}

/** Why a conditional update of the pod matched nothing: it was declared Lost, deleted, or is going away. */
async function refusal(ctx: CoreContext, pod: AgentPod): Promise<Error> {
  const now = await ctx.prisma.pod.findUnique({ where: { id: pod.id }, select: { phase: true } });
  if (!now) return new PodNotFoundError(pod.name);
  if (now.phase === "Terminating") return new PodTerminatingError(pod.name);
  return new PodLostError(pod.name);
}

/**
 * The agent inside a pod says it is up: a Pending or Starting pod becomes Ready and pending tasks
 * of the pool are placed on its slots. Each step is a conditional update, so a concurrent drain,
 * delete or lost-pod pass is never overwritten: a Draining pod stays Draining, a Terminating or
 * Lost one is refused (its agent must exit).
 */
export async function registerAgent(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<Pod> {
  const pod = await findAgentPod(ctx, podName, scope);
  const now = ctx.now();
  const became = await ctx.prisma.pod.updateMany({
    where: { id: pod.id, phase: { in: ["Pending", "Starting"] } },
    data: { phase: "Ready", readyAt: now, phaseChangedAt: now, lastHeartbeatAt: now },
  });
  if (became.count === 0) {
    const seen = await ctx.prisma.pod.updateMany({ where: { id: pod.id, phase: { in: ["Ready", "Draining"] } }, data: { lastHeartbeatAt: now } });
    if (seen.count === 0) throw await refusal(ctx, pod);
    // The pod was registered already: its agent started again (a crash, an OOM kill, a restart).
    agentRestarts().inc({ pool: pod.pool.name });
  }
  if (became.count > 0) {
    await placePending(ctx, pod.pool);
    // Best effort: the next reconcile pass recomputes every condition anyway.
    await refreshReadiness(ctx, pod.pool.id).catch(() => {});
  }
  const fresh = await ctx.prisma.pod.findUnique({ where: { id: pod.id } });
  if (!fresh) throw new PodNotFoundError(pod.name);
  return fresh;
}

/**
 * Records a heartbeat. Conditional on the phase, so a heartbeat racing the lost-pod pass never
 * revives a Lost pod; a Terminating pod's agent is told to exit.
 */
export async function heartbeat(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<Date> {
  const pod = await findAgentPod(ctx, podName, scope);
  const now = ctx.now();
  const { count } = await ctx.prisma.pod.updateMany({ where: { id: pod.id, phase: { in: ["Pending", "Starting", "Ready", "Draining"] } }, data: { lastHeartbeatAt: now } });
  if (count === 0) throw await refusal(ctx, pod);
  // An allocation passes over a pod whose row is locked (this update held it): pending work of
  // the pool is placed now rather than at the next pass. Best effort; bounded like a release.
  if (pod.phase === "Ready") await placePending(ctx, pod.pool, 10).catch(() => []);
  return now;
}

export interface CurrentAssignment {
  task: Task;
  slotIndex: number;
  action: "run" | "apply";
}

/** What the pod's agent should be working on now: the level-triggered start of its assignment stream. */
export async function currentAssignments(ctx: CoreContext, podName: string, scope: AgentScope = {}): Promise<CurrentAssignment[]> {
  const pod = await findAgentPod(ctx, podName, scope);
  const slots = await ctx.prisma.slot.findMany({
    where: { podId: pod.id, state: "running", taskId: { not: null } },
    include: { task: true },
    orderBy: { index: "asc" },
  });
  return slots
    .filter((s): s is typeof s & { task: Task } => s.task !== null && (s.task.status === "running" || s.task.status === "applying"))
    .map((s) => ({ task: s.task, slotIndex: s.index, action: s.task.status === "applying" ? "apply" : "run" }));
}
