export {
  submitTask,
  getTask,
  tasksByIds,
  listTasks,
  reportTask,
  finishRunningTask,
  approveTask,
  cancelTask,
  expireReservations,
  isTerminal,
  isTaskStatus,
  MAX_PAYLOAD_BYTES,
  type SubmitTaskInput,
  type ReportTaskInput,
} from "./lifecycle.js";
export * from "./errors.js";
