export {
  submitTask,
  getTask,
  tasksByIds,
  listTasks,
  reportTask,
  finishRunningTask,
  approveTask,
  rejectTask,
  MAX_REVIEW_COMMENT,
  ALL_STATUSES,
  type Review,
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
export { listTaskPage, countTasksByStatus, listApprovals, taskCursor, MAX_TASK_PAGE, type TaskFilter, type TaskPage, type TaskPageQuery } from "./query.js";
export { taskMetrics } from "./metrics.js";
