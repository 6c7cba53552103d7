import type { CoreContext } from "../context.js";
import type { StorageService } from "../storage/index.js";
import { isStopping, isTerminal } from "../tasks/lifecycle.js";
import { TaskNotFoundError } from "../tasks/errors.js";
import { chunkBytes, LogBytesMissingError } from "./chunks.js";
import { isTruncated, logLayout, planPage, storedOffset, wholeCharacters, type LogLayout, type PagePlan } from "./layout.js";

/** A page holds at most this many bytes of the log: 256 KiB. */
export const LOG_PAGE_BYTES = 256 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where a finished task's log is kept. */
export const taskLogKey = (taskId: string) => `tasks/${taskId}/log`;

export interface TaskLogPage {
  /** Text from `from` on (UTF-8), with the truncation marker where bytes were dropped. */
  data: string;
  /** Byte offset to read from next: the log's size once caught up. */
  nextOffset: number;
  /** No more bytes will come (the task has ended) and this page reaches the end. */
  complete: boolean;
  /** Bytes past the cap were dropped between the head and the tail. */
  truncated: boolean;
}

interface LogState {
  layout: LogLayout;
  stored: boolean;
  /** The task has ended and its agent does not stop it: the log takes no more bytes. */
  closed: boolean;
}

async function logState(ctx: CoreContext, taskId: string): Promise<LogState> {
  const task = UUID.test(taskId)
    ? await ctx.prisma.task.findUnique({ where: { id: taskId }, select: { status: true, stopRequestedAt: true, log: { select: { size: true, capBytes: true, storedAt: true } } } })
    : null;
  if (!task) throw new TaskNotFoundError(taskId);
  const closed = isTerminal(task.status) && !isStopping(task);
  if (!task.log) return { layout: logLayout(0, 1), stored: false, closed };
  return { layout: logLayout(Number(task.log.size), task.log.capBytes), stored: task.log.storedAt !== null, closed };
}

/** Bytes [start, end) of a running log from its chunks; null when they are gone (the log moved to storage meanwhile). */
async function runningBytes(ctx: CoreContext, taskId: string, start: number, end: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  try {
    for await (const piece of chunkBytes(ctx, taskId, start, end)) parts.push(piece);
  } catch (error) {
    if (error instanceof LogBytesMissingError) return null;
    throw error;
  }
  return Buffer.concat(parts);
}

async function storedBytes(storage: StorageService, taskId: string, layout: LogLayout, start: number, end: number): Promise<Buffer> {
  const stream = await storage.getStream(taskLogKey(taskId), { start: storedOffset(layout, start), end: storedOffset(layout, end - 1) });
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

function pageOf(state: LogState, plan: PagePlan, bytes: Buffer): TaskLogPage {
  const { layout } = state;
  const regionEnd = isTruncated(layout) && plan.start < layout.headEnd ? layout.headEnd : layout.size;
  const whole = wholeCharacters(bytes, plan.start, { cutEnd: plan.end < regionEnd, skipStart: plan.marker !== null });
  return {
    data: (plan.marker ?? "") + whole.bytes.toString("utf8"),
    nextOffset: whole.end,
    complete: state.closed && whole.end >= layout.size,
    truncated: isTruncated(layout),
  };
}

/**
 * The page of a task's log from byte `from`: from its chunks while it runs, from storage once
 * it moved there. Pages are at most `pageBytes` and never split a UTF-8 character.
 */
export async function readTaskLog(ctx: CoreContext, storage: StorageService, taskId: string, from: number, pageBytes = LOG_PAGE_BYTES): Promise<TaskLogPage> {
  const size = Math.min(Math.max(4, Math.floor(pageBytes)), LOG_PAGE_BYTES);
  for (let attempt = 0; ; attempt++) {
    const state = await logState(ctx, taskId);
    const plan = planPage(state.layout, from, size);
    if (plan.end <= plan.start) return pageOf(state, plan, Buffer.alloc(0));
    if (state.stored) return pageOf(state, plan, await storedBytes(storage, taskId, state.layout, plan.start, plan.end));
    const bytes = await runningBytes(ctx, taskId, plan.start, plan.end);
    if (bytes) return pageOf(state, plan, bytes);
    // The chunks went between the two reads: the log is in storage now (read the state again).
    if (attempt >= 2) throw new Error(`the log of task ${taskId} is missing bytes ${plan.start}-${plan.end}`);
  }
}
