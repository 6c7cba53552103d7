import type { Task } from "../db/index.js";
import { Counter, Histogram, metric, registry } from "../metrics/index.js";

const BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

export const taskMetrics = {
  runSeconds: metric(
    "berth_task_run_seconds",
    () =>
      new Histogram({
        name: "berth_task_run_seconds",
        help: "How long a task phase ran on its slot (plan: start to plan or end; apply: approval to end), by pool and type",
        labelNames: ["pool", "type", "phase"],
        buckets: BUCKETS,
        registers: [registry],
      }),
  ),
  superseded: metric(
    "berth_tasks_superseded_total",
    () => new Counter({ name: "berth_tasks_superseded_total", help: "Pending tasks cancelled because a later submission of their concurrency key superseded them", registers: [registry] }),
  ),
};

/** Label values for task types stay bounded: a pool without declared types accepts any string. */
const MAX_TYPE_LABELS = 100;
const typeLabels = new Set<string>();
export function typeLabel(type: string): string {
  if (typeLabels.has(type)) return type;
  if (typeLabels.size >= MAX_TYPE_LABELS) return "other";
  typeLabels.add(type);
  return type;
}

/** Observes the phase a task just ended: its plan (or only) phase, or its apply. */
export function observeRun(task: Pick<Task, "type" | "status" | "startedAt" | "approvedAt" | "planReadyAt" | "finishedAt">, pool: string): void {
  const applied = task.approvedAt !== null && task.status !== "apply_pending";
  const from = applied ? task.approvedAt : task.startedAt;
  const to = task.status === "apply_pending" ? task.planReadyAt : task.finishedAt;
  if (!from || !to) return;
  taskMetrics.runSeconds.observe({ pool, type: typeLabel(task.type), phase: applied ? "apply" : "plan" }, Math.max(0, (to.getTime() - from.getTime()) / 1000));
}
