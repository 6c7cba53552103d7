import type { CoreContext } from "../context.js";
import { isResync, type Resync, type TaskLogAppended } from "../events/index.js";
import type { StorageService } from "../storage/index.js";
import { readTaskLog, type TaskLogPage } from "./read.js";

/** How often a follower reads the truth when no event came (a lost event delays, never strands). */
export const FOLLOW_RECHECK_MS = 2_000;

/**
 * A task's log from byte `from`, live: what is there first, then each appended chunk as it comes
 * (from any replica, through the event bus), until the task has ended and its log is complete.
 * After an interruption of the bus, and whenever no event came for `recheckMs`, it reads the log
 * again from where it is, so it converges whatever events were lost.
 */
export async function* followTaskLog(
  ctx: CoreContext,
  storage: StorageService,
  taskId: string,
  from = 0,
  options: { recheckMs?: number; signal?: AbortSignal } = {},
): AsyncGenerator<TaskLogPage> {
  // Subscribe before reading, so nothing appended in between is missed.
  const events = ctx.events.subscribe(`taskLog:${taskId}`, options.signal);
  let cursor = Math.max(0, from);
  /** Reads from the cursor to the end; true when the log is complete. */
  async function* catchUp(): AsyncGenerator<TaskLogPage, boolean> {
    for (;;) {
      const page = await readTaskLog(ctx, storage, taskId, cursor);
      // A `from` past the end reads the end; the cursor stays where it was asked to be.
      const moved = page.nextOffset > cursor;
      cursor = Math.max(cursor, page.nextOffset);
      if (page.data.length > 0 || page.complete) yield page;
      if (page.complete) return true;
      if (!moved) return false;
    }
  }
  let pending: Promise<IteratorResult<TaskLogAppended | Resync>> | null = null;
  try {
    if (yield* catchUp()) return;
    for (;;) {
      pending ??= events.next();
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"recheck">((resolve) => (timer = setTimeout(() => resolve("recheck"), options.recheckMs ?? FOLLOW_RECHECK_MS)));
      const next = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (next === "recheck") {
        if (yield* catchUp()) return;
        continue;
      }
      pending = null;
      if (next.done) return;
      const event = next.value;
      if (isResync(event) || event.end || event.data === null || event.offset > cursor) {
        if (yield* catchUp()) return;
        continue;
      }
      if (event.size <= cursor) continue;
      const bytes = Buffer.from(event.data, "utf8");
      yield { data: bytes.subarray(cursor - event.offset).toString("utf8"), nextOffset: event.size, complete: false, truncated: event.truncated };
      cursor = event.size;
    }
  } finally {
    await events.return?.();
  }
}
