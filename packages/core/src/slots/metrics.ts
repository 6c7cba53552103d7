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
  slots: metric(
    "berth_slots",
    () => new Gauge({ name: "berth_slots", help: "Slots by state per pool", labelNames: ["pool", "state"], registers: [registry] }),
  ),
  pods: metric(
    "berth_pods",
    () => new Gauge({ name: "berth_pods", help: "Pods by phase per pool", labelNames: ["pool", "phase"], registers: [registry] }),
  ),
};
