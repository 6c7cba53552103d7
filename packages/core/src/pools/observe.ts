// One observation of a pool (its row, its pods with their slots, its queue, what its runtime
// lists) and the pure decisions about its runtime pods that follow from it: which pods to
// start, delete, forget, adopt or judge gone, and which deletion costs to correct.
import type { Pod, Pool } from "../db/index.js";
import type { RuntimePod } from "../runtime/types.js";
import type { Phase, PodSnapshot, SlotStateName } from "./decide.js";

export type PodRow = Pick<Pod, "id" | "name" | "phase" | "createdAt" | "readyAt" | "lastHeartbeatAt" | "phaseChangedAt" | "runtimeScope" | "tasksStarted"> & {
  slots: { state: SlotStateName }[];
};

export interface PoolView {
  pool: Pool;
  pods: PodRow[];
  pendingTasks: number;
  /** What the pool's runtime lists, or why it could not: null when the runtime is not on this server. */
  runtime: { scope: string; pods: RuntimePod[] } | { scope: string; error: string } | null;
  now: Date;
}

export interface RuntimePlanOptions {
  /** A pod of our scope missing from the list this long after its last phase change is gone. */
  missingGraceSeconds: number;
  /** A Terminating pod still listed this long is forgotten (it was deleted again meanwhile). */
  terminatingTimeoutSeconds: number;
  /** A Terminating pod this runtime cannot see is forgotten once its agent is silent this long. */
  heartbeatTimeoutSeconds: number;
  /** Lost pods are kept this long for the console. */
  podHistorySeconds: number;
  /** Whether the runtime keeps deletion costs (Kubernetes). */
  tracksDeletionCost: boolean;
}

export interface RuntimePlan {
  /** Pending rows whose runtime pod was never created (a create failed): create it. */
  start: string[];
  /** Listed pods to delete (again): Terminating or Lost rows whose pod is still there. */
  remove: string[];
  /** Rows to drop: Terminating ones whose pod left the list (or took too long), Lost ones past their history. */
  forget: string[];
  /** Live rows whose runtime pod is gone or ended: whatever ran there is lost. */
  gone: string[];
  /** Listed pods of this pool that have no row and are not being deleted: taken in as Starting. */
  adopt: RuntimePod[];
  /** Deletion costs to correct: only where the runtime's value differs. */
  costs: { name: string; cost: number }[];
}

const LIVE: Phase[] = ["Pending", "Starting", "Ready", "Draining"];
const ended = (p: RuntimePod) => p.phase === "Failed" || p.phase === "Succeeded";
const ago = (now: Date, then: Date | null, seconds: number) => then !== null && now.getTime() - then.getTime() > seconds * 1000;

export function toPodSnapshots(rows: PodRow[]): PodSnapshot[] {
  return rows.map((p) => ({ name: p.name, phase: p.phase, createdAt: p.createdAt, readyAt: p.readyAt, tasksStarted: p.tasksStarted, slots: p.slots.map((s) => s.state) }));
}

/**
 * What to do about the pool's runtime pods, from one observation. A row is judged by its
 * absence from the list only when this runtime can see it (same scope; rows of no scope are
 * from before scopes and count as ours); a pod being deleted (`terminating`) is never adopted.
 */
export function planRuntime(view: PoolView, opts: RuntimePlanOptions): RuntimePlan {
  const plan: RuntimePlan = { start: [], remove: [], forget: [], gone: [], adopt: [], costs: [] };
  const { now } = view;
  const listed = view.runtime && "pods" in view.runtime ? new Map(view.runtime.pods.map((p) => [p.name, p])) : null;
  const scope = view.runtime?.scope ?? null;
  for (const row of view.pods) {
    const visible = listed !== null && (row.runtimeScope === null || row.runtimeScope === scope);
    const seen = visible ? listed.get(row.name) : undefined;
    switch (row.phase) {
      case "Terminating":
        if (!visible) {
          if (ago(now, row.lastHeartbeatAt ?? row.phaseChangedAt, opts.heartbeatTimeoutSeconds)) plan.forget.push(row.name);
        } else if (!seen) plan.forget.push(row.name);
        else if (ago(now, row.phaseChangedAt, opts.terminatingTimeoutSeconds)) plan.forget.push(row.name);
        else if (!seen.terminating) plan.remove.push(row.name);
        break;
      case "Lost":
        if (seen && !seen.terminating) plan.remove.push(row.name);
        if (ago(now, row.phaseChangedAt, opts.podHistorySeconds)) plan.forget.push(row.name);
        break;
      case "Pending":
        if (visible && !seen) plan.start.push(row.name);
        else if (seen && ended(seen)) plan.gone.push(row.name);
        break;
      default:
        if (!visible) break;
        // An ended pod is judged gone (its tasks fail or go back to the queue); its runtime pod is
        // deleted by a later pass, once the row is Lost and holds no work.
        if (seen && ended(seen)) plan.gone.push(row.name);
        else if (!seen && ago(now, row.phaseChangedAt, opts.missingGraceSeconds)) plan.gone.push(row.name);
        else if (seen && opts.tracksDeletionCost && (row.phase === "Ready" || row.phase === "Draining")) {
          const cost = row.slots.filter((s) => s.state !== "idle").length;
          if (seen.deletionCost !== cost) plan.costs.push({ name: row.name, cost });
        }
    }
  }
  if (listed) {
    const known = new Set(view.pods.map((p) => p.name));
    for (const pod of listed.values()) {
      if (known.has(pod.name) || pod.terminating || ended(pod)) continue;
      plan.adopt.push(pod);
    }
  }
  return plan;
}

/** Rows that exist or are coming: everything but Lost and Terminating. */
export const liveRows = (rows: PodRow[]) => rows.filter((p) => LIVE.includes(p.phase));
