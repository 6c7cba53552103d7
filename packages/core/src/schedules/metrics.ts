import { Counter, Histogram, metric, registry } from "../metrics/index.js";

export const scheduleMetrics = {
  runs: metric(
    "berth_schedule_runs_total",
    () =>
      new Counter({
        name: "berth_schedule_runs_total",
        help: "Schedule fire times dealt with on this replica, by what became of them: submitted, buffered, skipped, missed",
        labelNames: ["status"],
        registers: [registry],
      }),
  ),
  fireDelay: metric(
    "berth_schedule_fire_delay_seconds",
    () =>
      new Histogram({
        name: "berth_schedule_fire_delay_seconds",
        help: "From a fire time being due (jitter included) to its task's submission, for scheduled and caught-up fire times",
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300],
        registers: [registry],
      }),
  ),
};
