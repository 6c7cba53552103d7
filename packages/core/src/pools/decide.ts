// The autoscaler's decisions: pure functions of a snapshot and a clock, so that every rule
// can be tested exhaustively without a database.
import type { PoolSpec } from "./spec.js";

export type Phase = "Pending" | "Starting" | "Ready" | "Draining" | "Terminating" | "Lost";
export type SlotStateName = "idle" | "running" | "reserved";

export interface PodSnapshot {
  name: string;
  phase: Phase;
  createdAt: Date;
  readyAt: Date | null;
  slots: SlotStateName[];
  /** Tasks placed on the pod so far (for recycling by maxTasksPerPod). */
  tasksStarted?: number;
}

export type ScalingSpec = Pick<
  PoolSpec,
  | "slotsPerPod"
  | "minPods"
  | "maxPods"
  | "scaleUpAt"
  | "scaleDownAt"
  | "scaleUpCooldownSeconds"
  | "scaleDownCooldownSeconds"
  | "stabilizationWindowSeconds"
  | "maxStep"
  | "scaleUpMaxStep"
  | "newPodGraceSeconds"
  | "autoscale"
>;

export interface PoolSnapshot {
  spec: ScalingSpec;
  pods: PodSnapshot[];
  pendingTasks: number;
  lastScaleUpAt: Date | null;
  lastScaleDownAt: Date | null;
  /** Since when utilisation has stayed below scaleDownAt (null: it is not below). */
  lowSince: Date | null;
  /** A capacity window in effect forbids scale-down (pods above maxPods still go). */
  blockScaleDown?: boolean;
}

export type ScalingKind = "none" | "scale_up" | "scale_down" | "scale_down_blocked" | "ensure_min";

export interface ScalingDecision {
  kind: ScalingKind;
  fromPods: number;
  toPods: number;
  /** Pods to create. */
  create: number;
  /** Pods to drain and delete: every slot idle, past newPodGrace. */
  remove: string[];
  utilization: number;
  reason: string;
}

const LIVE: Phase[] = ["Pending", "Starting", "Ready", "Draining"];
const isBusy = (s: SlotStateName) => s !== "idle";

/** Pods that exist or are coming: everything but Lost and Terminating. */
export function livePods(pods: PodSnapshot[]): PodSnapshot[] {
  return pods.filter((p) => LIVE.includes(p.phase));
}

/** (running + reserved) / slots on Ready pods; 0 when no pod is Ready. */
export function utilization(pods: PodSnapshot[]): number {
  const ready = pods.filter((p) => p.phase === "Ready");
  const total = ready.reduce((n, p) => n + p.slots.length, 0);
  if (total === 0) return 0;
  const busy = ready.reduce((n, p) => n + p.slots.filter(isBusy).length, 0);
  return busy / total;
}

/**
 * Running slots over the slots not pinned by a reservation, on Ready pods: how full the
 * capacity that can take new work is. A plan waiting for approval holds its slot (and its pod)
 * but is not load, so it neither adds headroom pods nor counts as work to scale for.
 */
export function runningUtilization(pods: PodSnapshot[]): number {
  const slots = pods.filter((p) => p.phase === "Ready").flatMap((p) => p.slots);
  const open = slots.filter((s) => s !== "reserved").length;
  return open === 0 ? 0 : slots.filter((s) => s === "running").length / open;
}

export function countSlots(pods: PodSnapshot[]): { running: number; reserved: number; idle: number; total: number } {
  const all = pods.flatMap((p) => p.slots);
  const running = all.filter((s) => s === "running").length;
  const reserved = all.filter((s) => s === "reserved").length;
  return { running, reserved, idle: all.length - running - reserved, total: all.length };
}

/** A pod may be removed only when every slot is idle and it is past its grace period. */
export function isRemovable(pod: PodSnapshot, now: Date, graceSeconds: number): boolean {
  if (pod.phase !== "Ready" && pod.phase !== "Pending" && pod.phase !== "Starting") return false;
  if (pod.slots.some(isBusy)) return false;
  const since = pod.readyAt ?? pod.createdAt;
  return now.getTime() - since.getTime() >= graceSeconds * 1000;
}

/**
 * Chooses up to `count` pods to remove: never one with a running or reserved slot, never one
 * within newPodGrace. Pods that never became Ready go first, then the youngest.
 */
export function selectPodsToRemove(pods: PodSnapshot[], count: number, now: Date, graceSeconds: number): string[] {
  if (count <= 0) return [];
  return pods
    .filter((p) => isRemovable(p, now, graceSeconds))
    .sort((a, b) => Number(a.phase === "Ready") - Number(b.phase === "Ready") || b.createdAt.getTime() - a.createdAt.getTime() || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((p) => p.name);
}

function elapsed(now: Date, since: Date | null, seconds: number): boolean {
  return since === null || now.getTime() - since.getTime() >= seconds * 1000;
}

function blockedReason(pods: PodSnapshot[], now: Date, grace: number): string {
  const busy = pods.filter((p) => p.slots.some(isBusy)).length;
  const young = pods.filter((p) => !p.slots.some(isBusy) && !isRemovable(p, now, grace)).length;
  const parts = [];
  if (busy) parts.push(`${busy} pod(s) have running or reserved slots`);
  if (young) parts.push(`${young} idle pod(s) are within newPodGrace (${grace}s) or draining`);
  return parts.join("; ") || "no pod qualifies";
}

/**
 * Decides how many pods the pool should have and which to remove. Order of rules:
 * minPods, maxPods, pending demand (in one step, up to maxPods and scaleUpMaxStep), high
 * running utilisation (scale-up cooldown), low running utilisation held for the stabilisation
 * window (scale-down cooldown, at most maxStep pods). Draining pods count against maxPods but
 * serve no new work, so a drained (recycled) pod is replaced when work or minPods needs it.
 */
export function decideScaling(s: PoolSnapshot, now: Date): ScalingDecision {
  const { spec } = s;
  const live = livePods(s.pods);
  const current = live.length;
  const serving = live.filter((p) => p.phase !== "Draining");
  const util = utilization(live);
  const decision = (kind: ScalingKind, create: number, remove: string[], reason: string): ScalingDecision => ({
    kind,
    fromPods: current,
    toPods: current + create - remove.length,
    create,
    remove,
    utilization: util,
    reason,
  });

  if (current > spec.maxPods) {
    const excess = current - spec.maxPods;
    const remove = selectPodsToRemove(live, Math.min(excess, spec.maxStep), now, 0);
    if (remove.length === 0) return decision("scale_down_blocked", 0, [], `above maxPods (${spec.maxPods}) but ${blockedReason(live, now, 0)}`);
    return decision("scale_down", 0, remove, `pool has ${current} pod(s), maxPods is ${spec.maxPods}`);
  }
  if (serving.length < spec.minPods) {
    const create = Math.min(spec.minPods - serving.length, spec.maxPods - current);
    if (create > 0) return decision("ensure_min", create, [], `pool has ${serving.length} serving pod(s), minPods is ${spec.minPods}`);
  }
  if (!spec.autoscale) return decision("none", 0, [], "autoscale is off");

  const upRoom = Math.min(spec.scaleUpMaxStep ?? Number.POSITIVE_INFINITY, spec.maxPods - current);
  const slotsOf = (state: SlotStateName) => serving.reduce((n, p) => n + p.slots.filter((x) => x === state).length, 0);
  const running = slotsOf("running");
  const reserved = slotsOf("reserved");

  // Pending demand: enough serving pods for every busy slot and every waiting task, at once.
  // Pods still starting are serving pods, so a burst does not add pods twice.
  if (s.pendingTasks > 0) {
    const needed = Math.ceil((running + reserved + s.pendingTasks) / spec.slotsPerPod);
    const short = needed - serving.length;
    if (short > 0) {
      if (upRoom <= 0) return decision("none", 0, [], `${s.pendingTasks} task(s) pending but the pool is at maxPods (${spec.maxPods})`);
      const create = Math.min(upRoom, short);
      const why = current === 0 ? `cold start: ${s.pendingTasks} task(s) pending and no pod` : `${s.pendingTasks} pending task(s) need ${needed} serving pod(s), ${serving.length} serve`;
      return decision("scale_up", create, [], why);
    }
  }

  // Headroom for running work: reserved slots are not load (see runningUtilization).
  const runUtil = runningUtilization(live);
  const open = serving.reduce((n, p) => n + p.slots.length, 0) - reserved;
  const projected = open > 0 ? running / open : 0;
  if (runUtil > spec.scaleUpAt && projected > spec.scaleUpAt && upRoom > 0) {
    if (!elapsed(now, s.lastScaleUpAt, spec.scaleUpCooldownSeconds)) {
      return decision("none", 0, [], `running utilisation ${pct(runUtil)} above ${pct(spec.scaleUpAt)}; scale-up cooldown`);
    }
    const wanted = Math.ceil(reserved / spec.slotsPerPod + running / (spec.slotsPerPod * spec.scaleUpAt)) - serving.length;
    const create = Math.min(upRoom, Math.max(1, wanted));
    return decision("scale_up", create, [], `running utilisation ${pct(runUtil)} above ${pct(spec.scaleUpAt)}`);
  }

  if (runUtil < spec.scaleDownAt && s.pendingTasks === 0 && current > spec.minPods) {
    if (s.blockScaleDown) return decision("none", 0, [], "a capacity window blocks scale-down");
    const stable = s.lowSince !== null && elapsed(now, s.lowSince, spec.stabilizationWindowSeconds);
    if (!stable) return decision("none", 0, [], `running utilisation ${pct(runUtil)} below ${pct(spec.scaleDownAt)}; stabilising`);
    if (!elapsed(now, s.lastScaleDownAt, spec.scaleDownCooldownSeconds)) return decision("none", 0, [], "scale-down cooldown");
    if (!elapsed(now, s.lastScaleUpAt, spec.stabilizationWindowSeconds)) return decision("none", 0, [], "recent scale-up; stabilising");
    const busyPods = running + reserved > 0 ? Math.ceil(reserved / spec.slotsPerPod + running / (spec.slotsPerPod * spec.scaleUpAt)) : 0;
    const needed = Math.max(spec.minPods, busyPods);
    const excess = Math.min(spec.maxStep, current - needed);
    if (excess <= 0) return decision("none", 0, [], "busy slots need every pod");
    const remove = selectPodsToRemove(live, excess, now, spec.newPodGraceSeconds);
    if (remove.length === 0) {
      return decision("scale_down_blocked", 0, [], `running utilisation ${pct(runUtil)} below ${pct(spec.scaleDownAt)} but ${blockedReason(live, now, spec.newPodGraceSeconds)}`);
    }
    return decision("scale_down", 0, remove, `running utilisation ${pct(runUtil)} below ${pct(spec.scaleDownAt)}`);
  }
  return decision("none", 0, [], `running utilisation ${pct(runUtil)} within ${pct(spec.scaleDownAt)}-${pct(spec.scaleUpAt)}`);
}

/** The next value of `lowSince`: when running utilisation first went below scaleDownAt, else null. */
export function nextLowSince(s: PoolSnapshot, now: Date): Date | null {
  const util = runningUtilization(livePods(s.pods));
  if (util < s.spec.scaleDownAt && s.pendingTasks === 0) return s.lowSince ?? now;
  return null;
}

/**
 * Manual scale to `requested` pods through the same safety as the autoscaler: adds what is
 * missing, removes only pods whose slots are all idle (no grace), says how many were busy.
 */
export function planManualScale(pods: PodSnapshot[], requested: number, now: Date): { create: number; remove: string[]; blockedPods: number } {
  const live = livePods(pods);
  if (requested >= live.length) return { create: requested - live.length, remove: [], blockedPods: 0 };
  const wanted = live.length - requested;
  const remove = selectPodsToRemove(live, wanted, now, 0);
  return { create: 0, remove, blockedPods: wanted - remove.length };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
