export {
  submitTask,
  getTask,
  tasksByIds,
  listTasks,
  reportTask,
  finishRunningTask,
  approveTask,
  cancelTask,
  confirmStopped,
  enforceDeadlines,
  expireReservations,
  isStopping,
  isTerminal,
  isTaskStatus,
  MAX_PAYLOAD_BYTES,
  MAX_TIMEOUT_SECONDS,
  AGENT_FAILURE_REASONS,
  type SubmitTaskInput,
  type ReportTaskInput,
  type ReportStatus,
} from "./lifecycle.js";
export * from "./errors.js";
export { taskMetrics } from "./metrics.js";
