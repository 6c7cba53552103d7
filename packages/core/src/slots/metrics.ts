import { Counter, Gauge, Histogram, metric, registry } from "../metrics/index.js";

export const slotMetrics = {
  allocations: metric(
    "berth_slot_allocations_total",
    () =>
      new Counter({
        name: "berth_slot_allocations_total",
        help: "Slot allocation attempts by outcome (placed, none)",
        labelNames: ["pool", "outcome"],
        registers: [registry],
      }),
  ),
  waitSeconds: metric(
    "berth_task_wait_seconds",
    () =>
      new Histogram({
        name: "berth_task_wait_seconds",
        help: "Time from task submission to running on a slot",
        labelNames: ["pool"],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
        registers: [registry],
      }),
  ),
  queueWaitSeconds: metric(
    "berth_task_queue_wait_seconds",
    () =>
      new Histogram({
        name: "berth_task_queue_wait_seconds",
        help: "Time a task waited in its pool's queue before it started: from submission, from its concurrency key coming free, or from its requeue",
        labelNames: ["pool", "type"],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
        registers: [registry],
      }),
  ),
  submitToStartSeconds: metric(
    "berth_task_submit_to_start_seconds",
    () =>
      new Histogram({
        name: "berth_task_submit_to_start_seconds",
        help: "Time from a task's submission to its start (its latest start, for a requeued task), by pool and task type",
        labelNames: ["pool", "type"],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
        registers: [registry],
      }),
  ),
  pendingByReason: metric(
    "berth_tasks_pending",
    () =>
      new Gauge({
        name: "berth_tasks_pending",
        help: "Pending tasks per pool by why they wait: no_slot, key_blocked (an earlier task of their concurrency key is active or ahead), reserved_cap (plans held back by maxReservedFraction)",
        labelNames: ["pool", "reason"],
        registers: [registry],
      }),
  ),
  slots: metric(
    "berth_slots",
    () => new Gauge({ name: "berth_slots", help: "Slots by state per pool", labelNames: ["pool", "state"], registers: [registry] }),
  ),
  pods: metric(
    "berth_pods",
    () => new Gauge({ name: "berth_pods", help: "Pods by phase per pool", labelNames: ["pool", "phase"], registers: [registry] }),
  ),
};
