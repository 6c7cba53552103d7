import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { appendTaskLog, archiveEndedLogs, logBytesAppended, logsTruncated, readTaskLog, removeOrphanLogs, taskLogKey, TaskLogChunkTooLargeError, TaskLogClosedError, TaskLogGapError } from "../../src/logs/index.js";
import { createLocalStorage } from "../../src/storage/local.js";
import type { StorageService } from "../../src/storage/index.js";
import { reportTask, submitTask, TaskNotInScopeError, TaskNotOnPodError } from "../../src/tasks/index.js";
import { openCore, seedPool, type CoreHarness } from "../support/core.js";
import { backends } from "../support/databases.js";

describe.each(backends)("task logs: appending on %s", (backend) => {
  let h: CoreHarness;
  let storage: StorageService;
  let root: string;
  beforeAll(async () => {
    h = await openCore(backend);
    root = await mkdtemp(join(tmpdir(), "berth-logs-"));
    storage = createLocalStorage({ root, maxUploadBytes: 1024 ** 3, publicBaseUrl: "http://127.0.0.1" });
  });
  beforeEach(() => h.reset());
  afterAll(async () => {
    await h.close();
    await rm(root, { recursive: true, force: true });
  });

  async function runningTask(pool = "web") {
    const { pods } = await seedPool(h.ctx, pool, 1, 2);
    const task = await submitTask(h.ctx, { pool, type: "plan" });
    expect(task.status).toBe("running");
    return { task, pod: pods[0]! };
  }
  const fullLog = async (taskId: string) => {
    let from = 0;
    let text = "";
    for (;;) {
      const page = await readTaskLog(h.ctx, storage, taskId, from);
      text += page.data;
      if (page.nextOffset === from) return { text, page };
      from = page.nextOffset;
    }
  };
  const counted = async (metric: typeof logBytesAppended, pool: string) => (await metric.get()).values.find((v) => v.labels.pool === pool)?.value ?? 0;
  const stored = async (taskId: string) => ({
    log: await h.ctx.prisma.taskLog.findUnique({ where: { taskId } }),
    chunks: await h.ctx.prisma.taskLogChunk.findMany({ where: { taskId }, orderBy: { offset: "asc" } }),
  });

  it("a chunk sent twice appears once", async () => {
    const { task, pod } = await runningTask();
    const bytesBefore = await counted(logBytesAppended, "web");
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "hello\n" })).toEqual({ nextOffset: 6 });
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "hello\n" })).toEqual({ nextOffset: 6 });
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 6, data: "world\n" })).toEqual({ nextOffset: 12 });
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 6, data: "world\n" })).toEqual({ nextOffset: 12 });
    expect((await fullLog(task.id)).text).toBe("hello\nworld\n");
    expect((await stored(task.id)).chunks).toHaveLength(2);
    // berth_task_log_bytes_total counts bytes stored, not bytes resent.
    expect((await counted(logBytesAppended, "web")) - bytesBefore).toBe(12);
  });

  it("an overlapping chunk stores only its new bytes, counted in UTF-8 bytes", async () => {
    const { task, pod } = await runningTask();
    await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "é1234" }); // é is 2 bytes
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 2, data: "1234567\n" })).toEqual({ nextOffset: 10 });
    expect((await fullLog(task.id)).text).toBe("é1234567\n");
    const { chunks } = await stored(task.id);
    expect(chunks.map((c) => [Number(c.offset), Buffer.from(c.data).toString()])).toEqual([
      [0, "é1234"],
      [6, "567\n"],
    ]);
  });

  it("a chunk past the end is refused with the log's size, and nothing is stored", async () => {
    const { task, pod } = await runningTask();
    await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "abc" });
    const before = await stored(task.id);
    const error = await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 5, data: "late" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskLogGapError);
    expect((error as TaskLogGapError).currentSize).toBe(3);
    expect(await stored(task.id)).toEqual(before);
    // A gap on an empty log stores no log at all.
    const other = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await expect(appendTaskLog(h.ctx, { taskId: other.id, pod, offset: 1, data: "x" })).rejects.toMatchObject({ currentSize: 0 });
    expect(await h.ctx.prisma.taskLog.findUnique({ where: { taskId: other.id } })).toBeNull();
  });

  it("an empty chunk at offset 0 tells the size and changes nothing", async () => {
    const { task, pod } = await runningTask();
    await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "abcdef" });
    const before = await stored(task.id);
    expect(await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "" })).toEqual({ nextOffset: 6 });
    expect(await stored(task.id)).toEqual(before);
  });

  it("refuses another pod, another pool's agent, a too large chunk and a bad offset, storing nothing", async () => {
    const { task, pod } = await runningTask("web");
    const { pool: otherPool, pods: otherPods } = await seedPool(h.ctx, "batch", 1, 1);
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod: otherPods[0]!, offset: 0, data: "x" })).rejects.toBeInstanceOf(TaskNotOnPodError);
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "x", scopePoolId: otherPool.id })).rejects.toBeInstanceOf(TaskNotInScopeError);
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "x".repeat(256 * 1024 + 1) })).rejects.toBeInstanceOf(TaskLogChunkTooLargeError);
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod, offset: -1, data: "x" })).rejects.toMatchObject({ field: "offset" });
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0.5, data: "x" })).rejects.toBeInstanceOf(ValidationError);
    expect(await h.ctx.prisma.taskLog.count()).toBe(0);
    expect(await h.ctx.prisma.taskLogChunk.count()).toBe(0);
  });

  it("a 50 MiB log sent in chunks keeps its head and tail under the cap, with the marker", async () => {
    const { task, pod } = await runningTask();
    const truncatedBefore = await counted(logsTruncated, "web");
    const cap = 1024 * 1024;
    const line = (i: number) => `line ${String(i).padStart(9, "0")} ${"x".repeat(48)}\n`; // 64 bytes
    const perChunk = 4096; // 256 KiB chunks
    const total = 50 * 1024 * 1024;
    let offset = 0;
    for (let n = 0; offset < total; n++) {
      const data = Array.from({ length: perChunk }, (_, i) => line(n * perChunk + i)).join("");
      offset = (await appendTaskLog(h.ctx, { taskId: task.id, pod, offset, data }, { maxBytes: cap })).nextOffset;
    }
    expect(offset).toBe(total);
    expect((await counted(logsTruncated, "web")) - truncatedBefore).toBe(1); // once, when it first outgrew the cap
    const kept = await h.ctx.prisma.$queryRawUnsafe<{ bytes: bigint }[]>(`SELECT COALESCE(SUM(length(data)), 0)::bigint AS bytes FROM "TaskLogChunk" WHERE "taskId" = $1::uuid`, task.id);
    expect(Number(kept[0]!.bytes)).toBeLessThanOrEqual(cap + 256 * 1024);
    const { text, page } = await fullLog(task.id);
    expect(page.truncated).toBe(true);
    const dropped = total - cap;
    expect(text).toContain(`\n… ${dropped} bytes truncated …\n`);
    const [head, tail] = text.split(`\n… ${dropped} bytes truncated …\n`);
    expect(head!.startsWith(line(0))).toBe(true);
    expect(Buffer.byteLength(head!)).toBe(cap / 2);
    expect(Buffer.byteLength(tail!)).toBe(cap / 2);
    expect(tail!.endsWith(line(total / 64 - 1))).toBe(true);

    // Ended: the log moves to storage in the same form, and the chunks go.
    await reportTask(h.ctx, { taskId: task.id, pod, status: "succeeded" });
    expect(await archiveEndedLogs(h.ctx, storage)).toBe(1);
    expect(await h.ctx.prisma.taskLogChunk.count()).toBe(0);
    expect((await storage.get(taskLogKey(task.id))).toString()).toBe(text);
    const after = await fullLog(task.id);
    expect(after.text).toBe(text);
    expect(after.page).toMatchObject({ complete: true, truncated: true, nextOffset: total });
  }, 120_000);

  it("when the task ends its log moves to tasks/<id>/log; no more bytes are taken", async () => {
    const { task, pod } = await runningTask();
    await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "plan: 3 to add\n" });
    expect((await readTaskLog(h.ctx, storage, task.id, 0)).complete).toBe(false);
    await reportTask(h.ctx, { taskId: task.id, pod, status: "failed", output: { error: "boom" } });
    // Ended but not moved yet: readable, complete.
    expect(await readTaskLog(h.ctx, storage, task.id, 0)).toMatchObject({ data: "plan: 3 to add\n", complete: true, truncated: false });
    await expect(appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 15, data: "late\n" })).rejects.toBeInstanceOf(TaskLogClosedError);
    expect(await archiveEndedLogs(h.ctx, storage)).toBe(1);
    expect(await archiveEndedLogs(h.ctx, storage)).toBe(0);
    expect((await storage.get(taskLogKey(task.id))).toString()).toBe("plan: 3 to add\n");
    expect(await stored(task.id)).toMatchObject({ log: { size: 15n, storedAt: expect.any(Date) }, chunks: [] });
    expect(await readTaskLog(h.ctx, storage, task.id, 6)).toEqual({ data: "3 to add\n", nextOffset: 15, complete: true, truncated: false });
  });

  it("a stored log goes with its task: deleting the pool's history removes it, other logs stay", async () => {
    const { task, pod } = await runningTask("web");
    const { pods: batchPods } = await seedPool(h.ctx, "batch", 1, 1);
    const kept = await submitTask(h.ctx, { pool: "batch", type: "plan" });
    for (const [t, p] of [[task, pod], [kept, batchPods[0]!]] as const) {
      await appendTaskLog(h.ctx, { taskId: t.id, pod: p, offset: 0, data: "bye\n" });
      await reportTask(h.ctx, { taskId: t.id, pod: p, status: "succeeded" });
    }
    expect(await archiveEndedLogs(h.ctx, storage)).toBe(2);
    await h.ctx.prisma.pool.delete({ where: { name: "web" } });
    expect(await h.ctx.prisma.taskLog.count()).toBe(1);
    // Earlier tests of this file left logs of tasks that are gone, too: they go as well.
    expect((await removeOrphanLogs(h.ctx, storage)).removed).toBeGreaterThanOrEqual(1);
    expect(await storage.exists(taskLogKey(task.id))).toBe(false);
    expect(await storage.exists(taskLogKey(kept.id))).toBe(true);
    await storage.delete(taskLogKey(kept.id));
  });

  it("storage that fails keeps the log in the database; the next pass moves it", async () => {
    const { task, pod } = await runningTask();
    await appendTaskLog(h.ctx, { taskId: task.id, pod, offset: 0, data: "kept\n" });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "succeeded" });
    const away: StorageService = { ...storage, saveStream: () => Promise.reject(new Error("storage unavailable")) };
    await expect(archiveEndedLogs(h.ctx, away)).rejects.toThrow("storage unavailable");
    expect(await stored(task.id)).toMatchObject({ log: { storedAt: null }, chunks: [{ offset: 0n }] });
    expect((await readTaskLog(h.ctx, storage, task.id, 0)).data).toBe("kept\n");
    expect(await archiveEndedLogs(h.ctx, storage)).toBe(1);
    expect((await storage.get(taskLogKey(task.id))).toString()).toBe("kept\n");
  });
});
