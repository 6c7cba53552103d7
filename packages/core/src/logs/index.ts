import { BUILTIN_LOCK_TTL_MS, defineCronJob, FREQUENT_JOB_HISTORY_KEEP, type CronJobDefinition } from "../cron/index.js";
import type { CoreContext } from "../context.js";
import type { StorageService } from "../storage/index.js";
import { appendTaskLog, DEFAULT_TASK_LOG_MAX_BYTES, type AppendTaskLogInput, type AppendTaskLogResult } from "./append.js";
import { archiveEndedLogs, archiveTaskLog, removeOrphanLogs } from "./archive.js";
import { followTaskLog } from "./follow.js";
import { readTaskLog, type TaskLogPage } from "./read.js";

export { appendTaskLog, DEFAULT_TASK_LOG_MAX_BYTES, MAX_LOG_CHUNK_BYTES, type AppendTaskLogInput, type AppendTaskLogResult } from "./append.js";
export { archiveEndedLogs, archiveTaskLog, removeOrphanLogs } from "./archive.js";
export { followTaskLog, FOLLOW_RECHECK_MS } from "./follow.js";
export { readTaskLog, taskLogKey, LOG_PAGE_BYTES, type TaskLogPage } from "./read.js";
export { logLayout, planPage, storedOffset, truncationMarker, type LogLayout } from "./layout.js";
export { TaskLogChunkTooLargeError, TaskLogClosedError, TaskLogGapError } from "./errors.js";
export { logBytesAppended, logsTruncated } from "./metrics.js";

/** Task logs as a replica serves them: the database while a task runs, storage after. */
export interface TaskLogs {
  append(input: AppendTaskLogInput): Promise<AppendTaskLogResult>;
  read(taskId: string, from?: number, pageBytes?: number): Promise<TaskLogPage>;
  follow(taskId: string, from?: number, signal?: AbortSignal): AsyncGenerator<TaskLogPage>;
  /** Moves the logs of ended tasks to storage (a background pass); returns how many moved. */
  archiveEnded(): Promise<number>;
  archive(taskId: string): Promise<boolean>;
  /** Removes stored logs of tasks that are gone, one page of them per call; returns how many. */
  removeOrphans(): Promise<number>;
}

export function createTaskLogs(ctx: CoreContext, storage: StorageService, options: { maxBytes?: number } = {}): TaskLogs {
  const maxBytes = options.maxBytes ?? DEFAULT_TASK_LOG_MAX_BYTES;
  let orphanCursor: string | null = null;
  return {
    append: (input) => appendTaskLog(ctx, input, { maxBytes }),
    read: (taskId, from = 0, pageBytes) => readTaskLog(ctx, storage, taskId, from, pageBytes),
    follow: (taskId, from = 0, signal) => followTaskLog(ctx, storage, taskId, from, { signal }),
    archiveEnded: () => archiveEndedLogs(ctx, storage),
    archive: (taskId) => archiveTaskLog(ctx, storage, taskId),
    async removeOrphans() {
      const { removed, next } = await removeOrphanLogs(ctx, storage, orphanCursor);
      orphanCursor = next;
      return removed;
    },
  };
}

/**
 * The background pass of task logs, on one replica at a time: logs of tasks that have ended move
 * to storage (an ended task's log also moves at once when its agent reports the end), and stored
 * logs of tasks that are gone are removed.
 */
export function taskLogsJob(logs: TaskLogs, schedule: string): CronJobDefinition {
  return defineCronJob({
    name: "task-logs",
    schedule,
    lockTtl: BUILTIN_LOCK_TTL_MS,
    historyKeep: FREQUENT_JOB_HISTORY_KEEP,
    run: async () => ({ archived: await logs.archiveEnded(), orphansRemoved: await logs.removeOrphans() }),
  });
}
