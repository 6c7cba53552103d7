import { Readable } from "node:stream";
import type { CoreContext } from "../context.js";
import type { StorageService } from "../storage/index.js";
import { isStopping, isTerminal } from "../tasks/lifecycle.js";
import { droppedBytes, isTruncated, logLayout, truncationMarker, type LogLayout } from "./layout.js";
import { chunkBytes } from "./chunks.js";
import { taskLogKey } from "./read.js";

const TERMINAL = ["succeeded", "failed", "cancelled", "expired"] as const;

/** The stored form of a log: its head, the marker where bytes were dropped, its tail. */
async function* storedForm(ctx: CoreContext, taskId: string, layout: LogLayout): AsyncGenerator<Buffer> {
  if (!isTruncated(layout)) return yield* chunkBytes(ctx, taskId, 0, layout.size);
  yield* chunkBytes(ctx, taskId, 0, layout.headEnd);
  yield Buffer.from(truncationMarker(droppedBytes(layout)));
  yield* chunkBytes(ctx, taskId, layout.tailFrom, layout.size);
}

/**
 * Moves the log of a task that has ended to storage at `tasks/<id>/log` and drops its chunks.
 * Does nothing for a task still running (or being stopped), or whose log moved already; safe to
 * repeat and to run on several replicas at once (they write the same bytes). True when it moved it now.
 */
export async function archiveTaskLog(ctx: CoreContext, storage: StorageService, taskId: string): Promise<boolean> {
  const task = await ctx.prisma.task.findUnique({
    where: { id: taskId },
    select: { status: true, stopRequestedAt: true, log: { select: { size: true, capBytes: true, storedAt: true } } },
  });
  // Appends are refused once a task is closed, and a transition waits for appends in flight: the chunks are final.
  if (!task?.log || task.log.storedAt || !isTerminal(task.status) || isStopping(task)) return false;
  const layout = logLayout(Number(task.log.size), task.log.capBytes);
  await storage.saveStream(Readable.from(storedForm(ctx, taskId, layout)), taskLogKey(taskId), "text/plain; charset=utf-8");
  const moved = await ctx.prisma.$transaction(async (tx) => {
    const marked = await tx.taskLog.updateMany({ where: { taskId, storedAt: null }, data: { storedAt: ctx.now() } });
    await tx.taskLogChunk.deleteMany({ where: { taskId } });
    return marked.count === 1;
  });
  if (moved) await ctx.events.publish(`taskLog:${taskId}`, { taskId, offset: layout.size, data: "", size: layout.size, truncated: isTruncated(layout), end: true });
  return moved;
}

/** Moves the logs of tasks that have ended to storage, oldest first, at most `limit` per call. Returns how many moved. */
export async function archiveEndedLogs(ctx: CoreContext, storage: StorageService, limit = 50): Promise<number> {
  const due = await ctx.prisma.taskLog.findMany({
    where: { storedAt: null, task: { status: { in: [...TERMINAL] }, stopRequestedAt: null } },
    select: { taskId: true },
    orderBy: { updatedAt: "asc" },
    take: limit,
  });
  let moved = 0;
  let failure: unknown = null;
  for (const { taskId } of due) {
    // One log that cannot move now (storage away, another replica moving it) does not hold up the others.
    try {
      if (await archiveTaskLog(ctx, storage, taskId)) moved++;
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return moved;
}

/**
 * Removes stored logs whose task is gone (deleted with its pool): a log lives as long as its
 * task's history. Looks at one page of `tasks/` per call, going on from `after` (null: the start);
 * returns how many it removed and where the next call goes on.
 */
export async function removeOrphanLogs(ctx: CoreContext, storage: StorageService, after: string | null = null): Promise<{ removed: number; next: string | null }> {
  const page = await storage.list("tasks/", { limit: 500, after });
  const ids = page.folders.map((folder) => folder.slice("tasks/".length, -1)).filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  const existing = new Set((await ctx.prisma.task.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((t) => t.id));
  const orphans = ids.filter((id) => !existing.has(id));
  for (const id of orphans) await storage.delete(taskLogKey(id));
  return { removed: orphans.length, next: page.nextAfter };
}
