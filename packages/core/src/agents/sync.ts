import type { CoreContext } from "../context.js";
import type { Pod, Task } from "../db/index.js";
import { ValidationError } from "../errors.js";
import { placePending } from "../slots/allocate.js";
import { confirmStopped, isStopping } from "../tasks/lifecycle.js";
import { PodLostError, PodNotFoundError } from "./errors.js";
import { findAgentPod, type AgentScope, type CurrentAssignment } from "./registry.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** More ids than any pod has slots is a confused or hostile agent. */
export const MAX_ACTIVE_TASKS = 256;

export interface AgentSyncInput {
  pod: string;
  /**
   * The tasks the agent runs right now (a process or other work in progress). Absent: the agent
   * does not say (an older agent); nothing is then confirmed stopped or acknowledged.
   */
  active?: readonly string[] | null;
}

export interface ReservedWork {
  task: Task;
  slotIndex: number;
  reservedUntil: Date | null;
}

/** The server's truth for one pod, which its agent converges on at every sync. */
export interface AgentSync {
  pod: Pod;
  /** Work the agent must be running: each running or applying task on the pod's slots. */
  assignments: CurrentAssignment[];
  /** Plans waiting for approval on the pod: the agent keeps their working directories. */
  reserved: ReservedWork[];
  /** Tasks the agent said it runs that it must stop now: ended by the server, or not its own. */
  stop: string[];
  /** The pod is Draining or Terminating: take no new work; when Terminating, exit once idle. */
  draining: boolean;
}

/**
 * An agent's level-triggered sync, made at every heartbeat: records the heartbeat, learns from
 * `active` which of its tasks it really runs (acknowledging them, and confirming the stop of
 * tasks the server ended), and answers with everything the pod should be doing. Whatever events
 * were lost, an agent that applies each answer converges within one heartbeat.
 */
export async function syncAgent(ctx: CoreContext, input: AgentSyncInput, scope: AgentScope = {}): Promise<AgentSync> {
  const active = input.active == null ? null : [...new Set(input.active)];
  if (active && active.length > MAX_ACTIVE_TASKS) throw new ValidationError("active", `active may name at most ${MAX_ACTIVE_TASKS} tasks`);
  const pod = await findAgentPod(ctx, input.pod, scope);
  const now = ctx.now();
  // A Terminating pod's heartbeat still counts: it shows its agent is winding down, not lost.
  const beat = await ctx.prisma.pod.updateMany({ where: { id: pod.id, phase: { not: "Lost" } }, data: { lastHeartbeatAt: now } });
  if (beat.count === 0) {
    // Declared Lost (or removed) since it was read: findAgentPod says which.
    await findAgentPod(ctx, input.pod, scope);
    throw new PodLostError(pod.name);
  }

  const slots = await ctx.prisma.slot.findMany({ where: { podId: pod.id, taskId: { not: null } }, include: { task: true }, orderBy: { index: "asc" } });
  const running = new Set(active?.filter((id) => UUID.test(id)) ?? []);
  const assignments: CurrentAssignment[] = [];
  const reserved: ReservedWork[] = [];
  const keep = new Set<string>();
  const stop: string[] = [];
  const toAcknowledge: string[] = [];
  let confirmed = 0;
  for (const slot of slots) {
    const task = slot.task;
    if (!task) continue;
    if (isStopping(task)) {
      if (active === null) continue;
      if (running.has(task.id)) stop.push(task.id);
      else {
        await confirmStopped(ctx, task.id, pod.name);
        confirmed++;
      }
      keep.add(task.id);
    } else if (slot.state === "running" && (task.status === "running" || task.status === "applying")) {
      assignments.push({ task, slotIndex: slot.index, action: task.status === "applying" ? "apply" : "run" });
      keep.add(task.id);
      if (running.has(task.id) && task.acknowledgedAt === null) toAcknowledge.push(task.id);
    } else if (slot.state === "reserved" && task.status === "apply_pending") {
      reserved.push({ task, slotIndex: slot.index, reservedUntil: slot.reservedUntil });
      keep.add(task.id);
    }
  }
  // Whatever else the agent runs is not (or no longer) its work: a task requeued elsewhere, one
  // whose slot was repaired, an id this pod never had.
  for (const id of running) if (!keep.has(id)) stop.push(id);
  if (toAcknowledge.length > 0) {
    await ctx.prisma.task.updateMany({ where: { id: { in: toAcknowledge }, acknowledgedAt: null, status: { in: ["running", "applying"] } }, data: { acknowledgedAt: now } });
  }
  if (confirmed > 0) await placePending(ctx, pod.pool, confirmed);
  const fresh = await ctx.prisma.pod.findUnique({ where: { id: pod.id } });
  // Removed meanwhile (its pool deleted, or its Terminating row forgotten): the agent must go.
  if (!fresh) throw new PodNotFoundError(pod.name);
  return { pod: fresh, assignments, reserved, stop, draining: fresh.phase === "Draining" || fresh.phase === "Terminating" };
}
