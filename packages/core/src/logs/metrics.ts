import { Counter, metric, registry } from "../metrics/index.js";

/** Bytes stored in task logs (repeated bytes of a resent chunk are not counted), by pool. */
export const logBytesAppended = metric(
  "berth_task_log_bytes_total",
  () => new Counter({ name: "berth_task_log_bytes_total", help: "Bytes appended to task logs, by pool", labelNames: ["pool"], registers: [registry] }),
);

/** Logs that outgrew TASK_LOG_MAX_BYTES (counted once each, when they first did), by pool. */
export const logsTruncated = metric(
  "berth_task_logs_truncated_total",
  () => new Counter({ name: "berth_task_logs_truncated_total", help: "Task logs that outgrew TASK_LOG_MAX_BYTES, by pool", labelNames: ["pool"], registers: [registry] }),
);
