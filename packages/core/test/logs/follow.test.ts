// The taskLog stream: what is there, then chunks appended on any replica, until the task ends.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CoreContext } from "../../src/context.js";
import { createMemoryEventBus, createRedisEventBus, type EventBus, type RedisEventBus } from "../../src/events/index.js";
import { appendTaskLog, archiveTaskLog, followTaskLog, type TaskLogPage } from "../../src/logs/index.js";
import { createLocalStorage } from "../../src/storage/local.js";
import type { StorageService } from "../../src/storage/index.js";
import { reportTask, submitTask } from "../../src/tasks/index.js";
import { openCore, seedPool, type CoreHarness } from "../support/core.js";
import { REDIS_URL, redisAvailable } from "../support/services.js";

/** Two replicas' buses: for Redis two connections on one prefix, for memory one bus. */
const buses: [string, () => { a: EventBus; b: EventBus; settle(): Promise<void> }][] = [
  ["memory", () => {
    const bus = createMemoryEventBus();
    return { a: bus, b: bus, settle: async () => {} };
  }],
];
if (redisAvailable) {
  buses.push(["redis", () => {
    const prefix = `berth-test:${randomBytes(4).toString("hex")}:`;
    const a = createRedisEventBus({ url: REDIS_URL, prefix });
    const b = createRedisEventBus({ url: REDIS_URL, prefix });
    return { a, b, settle: () => (b as RedisEventBus).whenSubscribed() };
  }]);
}

/** Reads pages from a follower in the background, so a test can wait for what it expects. */
function reader(pages: AsyncGenerator<TaskLogPage>) {
  const seen: TaskLogPage[] = [];
  let ended = false;
  const done = (async () => {
    for await (const page of pages) seen.push(page);
    ended = true;
  })();
  const text = () => seen.map((p) => p.data).join("");
  const until = async (check: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out; seen ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { seen, text, until, done, ended: () => ended };
}

describe.each(buses)("following a task's log, %s event bus", (_name, makeBuses) => {
  let h: CoreHarness;
  let storage: StorageService;
  let root: string;
  let a: EventBus;
  let b: EventBus;
  let settle: () => Promise<void>;
  let replicaA: CoreContext;
  let replicaB: CoreContext;
  beforeAll(async () => {
    h = await openCore("pglite", { realClock: true });
    root = await mkdtemp(join(tmpdir(), "berth-follow-"));
    storage = createLocalStorage({ root, maxUploadBytes: 1024 ** 3, publicBaseUrl: "http://127.0.0.1" });
    ({ a, b, settle } = makeBuses());
    replicaA = { ...h.ctx, events: a };
    replicaB = { ...h.ctx, events: b };
  });
  beforeEach(() => h.reset());
  afterAll(async () => {
    await a.close();
    if (b !== a) await b.close();
    await h.close();
    await rm(root, { recursive: true, force: true });
  });

  async function runningTask() {
    const { pods } = await seedPool(h.ctx, "web", 1, 1);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    return { id: task.id, pod: pods[0]! };
  }

  it("gives what is there, then each chunk appended on another replica, then ends with the task", async () => {
    const task = await runningTask();
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 0, data: "one\n" });
    const follow = reader(followTaskLog(replicaB, storage, task.id, 0, { recheckMs: 60_000 }));
    await follow.until(() => follow.text() === "one\n");
    await settle();
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 4, data: "two\n" });
    await follow.until(() => follow.text() === "one\ntwo\n");
    // A resent chunk brings nothing new; an overlapping one only its new bytes.
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 4, data: "two\nthree\n" });
    await follow.until(() => follow.text() === "one\ntwo\nthree\n");
    expect(follow.seen.map((p) => p.nextOffset)).toEqual([4, 8, 14]);
    // A large chunk's event carries no bytes (no queue holds much): the follower reads them from the log.
    const large = "z".repeat(40 * 1024) + "\n";
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 14, data: large });
    await follow.until(() => follow.text() === "one\ntwo\nthree\n" + large);
    expect(follow.ended()).toBe(false);
    await reportTask(h.ctx, { taskId: task.id, pod: task.pod, status: "succeeded" });
    // The move to storage, on replica A, is the event that ends the stream (the recheck is a minute away here).
    expect(await archiveTaskLog(replicaA, storage, task.id)).toBe(true);
    await follow.until(() => follow.ended());
    expect(follow.seen.at(-1)).toEqual({ data: "", nextOffset: 14 + large.length, complete: true, truncated: false });
  });

  it("converges when events are lost: the periodic recheck reads the log and the end", async () => {
    const task = await runningTask();
    const deaf: CoreContext = { ...h.ctx, events: createMemoryEventBus() }; // its events reach no follower
    const follow = reader(followTaskLog(replicaB, storage, task.id, 0, { recheckMs: 100 }));
    await appendTaskLog(deaf, { taskId: task.id, pod: task.pod, offset: 0, data: "quiet\n" });
    await follow.until(() => follow.text() === "quiet\n");
    await reportTask(h.ctx, { taskId: task.id, pod: task.pod, status: "failed" });
    await follow.until(() => follow.ended());
    expect(follow.seen.at(-1)).toEqual({ data: "", nextOffset: 6, complete: true, truncated: false });
    await follow.done;
  });

  it("from past the end: waits for the log to reach it, then gives the bytes from there", async () => {
    const task = await runningTask();
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 0, data: "ab" });
    const follow = reader(followTaskLog(replicaB, storage, task.id, 4, { recheckMs: 50 }));
    await new Promise((r) => setTimeout(r, 200));
    expect(follow.seen).toEqual([]);
    await settle();
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 2, data: "cdef" });
    await follow.until(() => follow.text() === "ef");
    await reportTask(h.ctx, { taskId: task.id, pod: task.pod, status: "succeeded" });
    await follow.done;
    expect(follow.seen.at(-1)).toMatchObject({ nextOffset: 6, complete: true });
  });

  it("starts from `from` and ends at once for a task that has ended", async () => {
    const task = await runningTask();
    await appendTaskLog(replicaA, { taskId: task.id, pod: task.pod, offset: 0, data: "abcdef" });
    await reportTask(h.ctx, { taskId: task.id, pod: task.pod, status: "succeeded" });
    const follow = reader(followTaskLog(replicaB, storage, task.id, 3, { recheckMs: 60_000 }));
    await follow.done;
    expect(follow.seen).toEqual([{ data: "def", nextOffset: 6, complete: true, truncated: false }]);
  });
});
