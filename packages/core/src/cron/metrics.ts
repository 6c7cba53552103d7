import { Counter, Histogram, metric, registry } from "../metrics/index.js";

export const cronExecutions = metric(
  "cron_task_executions_total",
  () =>
    new Counter({
      name: "cron_task_executions_total",
      help: "Cron fire times by outcome on this replica: succeeded, failed, skipped (previous run still running), missed (no replica was up)",
      labelNames: ["task", "replica", "status"],
      registers: [registry],
    }),
);

export const cronLockFailures = metric(
  "cron_task_lock_failures_total",
  () =>
    new Counter({
      name: "cron_task_lock_failures_total",
      help: "Fire times this replica did not run because another replica held the job's lock or had already recorded the fire time",
      labelNames: ["task", "replica"],
      registers: [registry],
    }),
);

export const cronDuration = metric(
  "cron_task_duration_seconds",
  () =>
    new Histogram({
      name: "cron_task_duration_seconds",
      help: "Duration of cron runs",
      labelNames: ["task"],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers: [registry],
    }),
);
