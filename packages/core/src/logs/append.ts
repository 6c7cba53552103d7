import type { CoreContext } from "../context.js";
import { retryOnConflict, type TaskStatus } from "../db/index.js";
import { ValidationError } from "../errors.js";
import { isStopping, isTerminal } from "../tasks/lifecycle.js";
import { TaskNotFoundError, TaskNotInScopeError, TaskNotOnPodError } from "../tasks/errors.js";
import { TaskLogChunkTooLargeError, TaskLogClosedError, TaskLogGapError } from "./errors.js";
import { logLayout } from "./layout.js";
import { logBytesAppended, logsTruncated } from "./metrics.js";

/** The largest chunk an agent may send at once: 256 KiB. */
export const MAX_LOG_CHUNK_BYTES = 256 * 1024;
/** Chunks up to this size travel in their event; larger ones are read from the log by followers. */
export const MAX_EVENT_DATA_BYTES = 16 * 1024;
/** TASK_LOG_MAX_BYTES by default: 16 MiB. */
export const DEFAULT_TASK_LOG_MAX_BYTES = 16 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppendTaskLogInput {
  taskId: string;
  /** The agent's pod: the task must be placed on it. */
  pod: string;
  /** Byte offset (UTF-8) of `data` in the task's log. */
  offset: number;
  data: string;
  /** The pool an agent token is limited to; a task of another pool is refused. */
  scopePoolId?: string | null;
}

export interface AppendTaskLogResult {
  /** The log's size: where the next chunk starts. */
  nextOffset: number;
}

interface LockedTask {
  id: string;
  poolId: string;
  poolName: string;
  podName: string | null;
  status: TaskStatus;
  stopRequestedAt: Date | null;
}

/**
 * Appends a chunk of a running task's log, idempotently by offset: bytes already stored are not
 * stored again (a resent chunk changes nothing, an overlapping one adds only its new bytes), and
 * a chunk past the end is refused with the log's size. An empty chunk at offset 0 only tells the
 * size (an agent starting a phase or an attempt learns where to go on from).
 */
export async function appendTaskLog(ctx: CoreContext, input: AppendTaskLogInput, options: { maxBytes?: number } = {}): Promise<AppendTaskLogResult> {
  const capBytes = options.maxBytes ?? DEFAULT_TASK_LOG_MAX_BYTES;
  if (!Number.isSafeInteger(input.offset) || input.offset < 0) throw new ValidationError("offset", "offset must be a whole number of bytes, 0 or more");
  if (input.pod.length === 0 || input.pod.length > 253) throw new ValidationError("pod", "pod must be a pod name");
  const bytes = Buffer.from(input.data, "utf8");
  if (bytes.length > MAX_LOG_CHUNK_BYTES) throw new TaskLogChunkTooLargeError(bytes.length, MAX_LOG_CHUNK_BYTES);
  if (!UUID.test(input.taskId)) throw new TaskNotFoundError(input.taskId);

  const result = await retryOnConflict(() =>
    ctx.prisma.$transaction(async (tx) => {
      // Lock order: the task first (shared: appends do not wait for each other here, but a
      // transition that ends the task waits for them, so nothing lands after the log is moved).
      const [task] = await tx.$queryRawUnsafe<LockedTask[]>(
        `SELECT t.id, t."poolId", p.name AS "poolName", t."podName", t.status, t."stopRequestedAt"
         FROM "Task" t JOIN "Pool" p ON p.id = t."poolId" WHERE t.id = $1::uuid FOR SHARE OF t`,
        input.taskId,
      );
      if (!task) throw new TaskNotFoundError(input.taskId);
      if (input.scopePoolId && task.poolId !== input.scopePoolId) throw new TaskNotInScopeError(task.id);
      if (task.podName !== input.pod) throw new TaskNotOnPodError(task.id, input.pod);
      if (isTerminal(task.status) && !isStopping(task)) throw new TaskLogClosedError(task.id, task.status);

      const now = ctx.now();
      await tx.$executeRawUnsafe(
        `INSERT INTO "TaskLog" ("taskId", "capBytes", "updatedAt") VALUES ($1::uuid, $2, $3::timestamp(3)) ON CONFLICT ("taskId") DO NOTHING`,
        task.id,
        capBytes,
        now,
      );
      const [log] = await tx.$queryRawUnsafe<{ size: bigint; capBytes: number; storedAt: Date | null }[]>(
        `SELECT size, "capBytes", "storedAt" FROM "TaskLog" WHERE "taskId" = $1::uuid FOR UPDATE`,
        task.id,
      );
      if (!log || log.storedAt) throw new TaskLogClosedError(task.id, task.status);
      const size = Number(log.size);
      if (input.offset > size) throw new TaskLogGapError(task.id, input.offset, size);
      const end = input.offset + bytes.length;
      if (end <= size) return { task, start: size, added: Buffer.alloc(0), size, capBytes: log.capBytes };

      const added = bytes.subarray(size - input.offset);
      const layout = logLayout(end, log.capBytes);
      // The head's last chunk ends exactly where the head does, so whole chunks are either head or not.
      const headLimit = Math.floor(log.capBytes / 2);
      const pieces = size < headLimit && end > headLimit ? [added.subarray(0, headLimit - size), added.subarray(headLimit - size)] : [added];
      let at = size;
      for (const piece of pieces) {
        // Raw: Prisma's create would read the bytes back.
        await tx.$executeRawUnsafe(`INSERT INTO "TaskLogChunk" ("taskId", "offset", data) VALUES ($1::uuid, $2::bigint, $3)`, task.id, at, new Uint8Array(piece));
        at += piece.length;
      }
      if (layout.tailFrom > layout.headEnd) {
        // Past the cap: the chunks wholly between the head and the tail are dropped.
        await tx.$executeRawUnsafe(
          `DELETE FROM "TaskLogChunk" WHERE "taskId" = $1::uuid AND "offset" >= $2::bigint AND "offset" + length(data) <= $3::bigint`,
          task.id,
          layout.headEnd,
          layout.tailFrom,
        );
      }
      await tx.$executeRawUnsafe(`UPDATE "TaskLog" SET size = $2::bigint, "updatedAt" = $3::timestamp(3) WHERE "taskId" = $1::uuid`, task.id, end, now);
      return { task, start: size, added, size: end, capBytes: log.capBytes };
    }),
  );

  if (result.added.length > 0) {
    const { task, start, added, size, capBytes: cap } = result;
    logBytesAppended.inc({ pool: task.poolName }, added.length);
    if (start <= cap && size > cap) logsTruncated.inc({ pool: task.poolName });
    const data = added.length <= MAX_EVENT_DATA_BYTES ? added.toString("utf8") : null;
    await ctx.events.publish(`taskLog:${task.id}`, { taskId: task.id, offset: start, data, size, truncated: size > cap, end: false });
  }
  return { nextOffset: result.size };
}
