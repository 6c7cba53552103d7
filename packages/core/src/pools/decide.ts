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
 * minPods, maxPods, cold start, pending demand / high utilisation (scale-up cooldown),
 * low utilisation held for the stabilisation window (scale-down cooldown).
 */
export function decideScaling(s: PoolSnapshot, now: Date): ScalingDecision {
  const { spec } = s;
  const live = livePods(s.pods);
  const current = live.length;
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

  if (current < spec.minPods) {
    return decision("ensure_min", spec.minPods - current, [], `pool has ${current} pod(s), minPods is ${spec.minPods}`);
  }
  if (current > spec.maxPods) {
    const excess = current - spec.maxPods;
    const remove = selectPodsToRemove(live, Math.min(excess, spec.maxStep), now, 0);
    if (remove.length === 0) return decision("scale_down_blocked", 0, [], `above maxPods (${spec.maxPods}) but ${blockedReason(live, now, 0)}`);
    return decision("scale_down", 0, remove, `pool has ${current} pod(s), maxPods is ${spec.maxPods}`);
  }
  if (!spec.autoscale) return decision("none", 0, [], "autoscale is off");

  const room = Math.min(spec.maxStep, spec.maxPods - current);
  const busy = live.reduce((n, p) => n + p.slots.filter(isBusy).length, 0);
  const idleReady = live.filter((p) => p.phase === "Ready").reduce((n, p) => n + p.slots.filter((x) => !isBusy(x)).length, 0);
  const coming = live.filter((p) => p.phase === "Pending" || p.phase === "Starting").length * spec.slotsPerPod;
  const unmet = s.pendingTasks - idleReady - coming;

  if (current === 0 && s.pendingTasks > 0) {
    if (room <= 0) return decision("none", 0, [], `${s.pendingTasks} task(s) pending but maxPods is ${spec.maxPods}`);
    const create = Math.min(room, Math.ceil(s.pendingTasks / spec.slotsPerPod));
    return decision("scale_up", create, [], `cold start: ${s.pendingTasks} task(s) pending and no pod`);
  }

  const cooledUp = elapsed(now, s.lastScaleUpAt, spec.scaleUpCooldownSeconds);
  if (unmet > 0 && room > 0) {
    if (!cooledUp) return decision("none", 0, [], `${unmet} task(s) wait for a slot; scale-up cooldown`);
    const create = Math.min(room, Math.ceil(unmet / spec.slotsPerPod));
    return decision("scale_up", create, [], `${unmet} pending task(s) have no free slot`);
  }
  // Pods still starting count as capacity, so one burst does not add pods twice.
  const projected = busy / Math.max(1, (live.filter((p) => p.phase !== "Draining").length) * spec.slotsPerPod);
  if (util > spec.scaleUpAt && projected > spec.scaleUpAt && room > 0) {
    if (!cooledUp) return decision("none", 0, [], `utilisation ${pct(util)} above ${pct(spec.scaleUpAt)}; scale-up cooldown`);
    const wanted = Math.ceil(busy / (spec.slotsPerPod * spec.scaleUpAt)) - current;
    const create = Math.min(room, Math.max(1, wanted));
    return decision("scale_up", create, [], `utilisation ${pct(util)} above ${pct(spec.scaleUpAt)}`);
  }

  if (util < spec.scaleDownAt && s.pendingTasks === 0 && current > spec.minPods) {
    const stable = s.lowSince !== null && elapsed(now, s.lowSince, spec.stabilizationWindowSeconds);
    if (!stable) return decision("none", 0, [], `utilisation ${pct(util)} below ${pct(spec.scaleDownAt)}; stabilising`);
    if (!elapsed(now, s.lastScaleDownAt, spec.scaleDownCooldownSeconds)) return decision("none", 0, [], "scale-down cooldown");
    if (!elapsed(now, s.lastScaleUpAt, spec.stabilizationWindowSeconds)) return decision("none", 0, [], "recent scale-up; stabilising");
    const needed = Math.max(spec.minPods, busy > 0 ? Math.ceil(busy / (spec.slotsPerPod * spec.scaleUpAt)) : 0);
    const excess = Math.min(spec.maxStep, current - needed);
    if (excess <= 0) return decision("none", 0, [], "busy slots need every pod");
    const remove = selectPodsToRemove(live, excess, now, spec.newPodGraceSeconds);
    if (remove.length === 0) {
      return decision("scale_down_blocked", 0, [], `utilisation ${pct(util)} below ${pct(spec.scaleDownAt)} but ${blockedReason(live, now, spec.newPodGraceSeconds)}`);
    }
    return decision("scale_down", 0, remove, `utilisation ${pct(util)} below ${pct(spec.scaleDownAt)}`);
  }
  return decision("none", 0, [], `utilisation ${pct(util)} within ${pct(spec.scaleDownAt)}-${pct(spec.scaleUpAt)}`);
}

/** The next value of `lowSince`: when utilisation first went below scaleDownAt, else null. */
export function nextLowSince(s: PoolSnapshot, now: Date): Date | null {
  const util = utilization(livePods(s.pods));
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
