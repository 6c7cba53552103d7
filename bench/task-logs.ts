// Task logs: how fast appended chunks reach storage, and how fast live followers see them.
//  - throughput: a log sent as 256 KiB appendTaskLog chunks into PostgreSQL, then moved to local
//    storage when its task ends, in MiB/s end to end; baseline: a raw storage write of the same bytes.
//  - live tail: p99 from the start of an append to a follower on another replica (its own Redis
//    event bus) seeing the chunk, for 1, 10 and 100 followers; baseline: the same chunks published
//    straight on the event bus (no database), to the same number of subscribers.
import { setMaxListeners } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { CoreContext } from "@berth/core/context";
import { createRedisEventBus, isResync, type RedisEventBus } from "@berth/core/events";
import { appendTaskLog, archiveTaskLog, followTaskLog } from "@berth/core/logs";
import { createLocalStorage, type StorageService } from "@berth/core/storage";
import { reportTask } from "@berth/core/tasks";
import { figure, now, summarize, waitFor, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { seedPool } from "./support/seed.js";

const BENCHMARK = "task-logs";
const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

async function runningTasks(ctx: CoreContext, count: number): Promise<{ id: string; pod: string }[]> {
  const { pool } = await seedPool(ctx.prisma, { name: `logs-${Math.random().toString(36).slice(2, 8)}`, pods: count, slotsPerPod: 1, busyPerPod: 1 });
  const tasks = await ctx.prisma.task.findMany({ where: { poolId: pool.id }, select: { id: true, podName: true } });
  return tasks.map((t) => ({ id: t.id, pod: t.podName! }));
}

/** A chunk of printable log lines, `size` bytes. */
function chunkOf(size: number, n: number): string {
  const line = `chunk ${String(n).padStart(8, "0")} ${"x".repeat(47)}\n`; // 64 bytes
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}

async function throughput(ctx: CoreContext, storage: StorageService, bytes: number, log: BenchOptions["log"]): Promise<BenchResult[]> {
  const [task] = await runningTasks(ctx, 1);
  const chunks = Array.from({ length: Math.ceil(bytes / CHUNK) }, (_, i) => chunkOf(Math.min(CHUNK, bytes - i * CHUNK), i));
  // The raw write runs before and after the log's path, so that neither always meets a busier disk.
  const raw = async () => {
    const started = now();
    await storage.saveStream(Readable.from(chunks.map((c) => Buffer.from(c))), `bench/raw-${Math.random()}`, "text/plain");
    return (now() - started) / 1000;
  };
  const rawBefore = await raw();
  const started = now();
  let offset = 0;
  for (const data of chunks) offset = (await appendTaskLog(ctx, { taskId: task!.id, pod: task!.pod, offset, data }, { maxBytes: Math.max(bytes, 1024) })).nextOffset;
  const appendedAt = now();
  await reportTask(ctx, { taskId: task!.id, pod: task!.pod, status: "succeeded" });
  if (!(await archiveTaskLog(ctx, storage, task!.id))) throw new Error("the log did not move to storage");
  const seconds = (now() - started) / 1000;
  const rawSeconds = (rawBefore + (await raw())) / 2;
  const stored = await storage.getMetadata(`tasks/${task!.id}/log`);
  if (stored.size !== bytes) throw new Error(`stored ${stored.size} bytes of ${bytes}`);
  log(`task-logs: ${bytes / MiB} MiB appended in ${((appendedAt - started) / 1000).toFixed(2)} s, stored ${seconds.toFixed(2)} s after the first chunk; raw write ${rawSeconds.toFixed(2)} s`);
  return [
    figure({
      benchmark: BENCHMARK,
      name: "log streaming: appended chunks reaching storage",
      value: bytes / MiB / seconds,
      unit: "MiB/s",
      baseline: { name: "raw storage write of the same bytes", value: bytes / MiB / rawSeconds },
      note: "256 KiB appendTaskLog chunks into PostgreSQL one after another (one transaction each), then the move to local storage when the task ends",
      details: { mib: bytes / MiB, chunks: chunks.length, appendSeconds: (appendedAt - started) / 1000, totalSeconds: seconds, rawSeconds },
    }),
  ];
}

/** Sends `rounds` chunks one after another; each waits until every follower has it (5 s at most). Returns the latencies in ms. */
async function tail(
  followers: number,
  rounds: number,
  subscribe: (onChunk: (text: string) => void, signal: AbortSignal) => Promise<void>,
  send: (n: number, text: string) => Promise<void>,
): Promise<number[]> {
  const sentAt = new Map<number, number>();
  const got = new Map<number, number>();
  const latencies: number[] = [];
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // every follower listens on it
  const onChunk = (text: string) => {
    const at = now();
    for (const match of text.matchAll(/^tail (\d+)/gm)) {
      const n = Number(match[1]);
      const sent = sentAt.get(n);
      if (sent === undefined) continue;
      latencies.push(at - sent);
      got.set(n, (got.get(n) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: followers }, () => subscribe(onChunk, abort.signal)));
  const deadline = now() + 60_000;
  try {
    for (let n = 0; n < rounds && now() < deadline; n++) {
      sentAt.set(n, now());
      await send(n, `tail ${n} ${"y".repeat(100)}\n`);
      await waitFor(`chunk ${n} at ${followers} followers`, () => (got.get(n) ?? 0) >= followers, 5_000, 1);
    }
  } finally {
    abort.abort();
  }
  return latencies;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const database = await freshDatabase(opts.postgresUrl, 20);
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-logs-"));
  const buses: RedisEventBus[] = [];
  const bus = () => {
    const b = createRedisEventBus({ url: opts.redisUrl, prefix: `${opts.redisPrefix}events:`, queueLimit: 10_000 });
    buses.push(b);
    return b;
  };
  try {
    const storage = createLocalStorage({ root: join(dir, "root"), maxUploadBytes: 1024 ** 3, publicBaseUrl: "http://127.0.0.1" });
    // Two replicas: A takes the appends, B serves the followers.
    const replicaA: CoreContext = { prisma: database.db.prisma, events: bus(), now: () => new Date() };
    const replicaB: CoreContext = { prisma: database.db.prisma, events: bus(), now: () => new Date() };
    const results = await throughput(replicaA, storage, (opts.quick ? 8 : 64) * MiB, opts.log);

    for (const followers of [1, 10, 100]) {
      const rounds = opts.quick ? 30 : 200;
      const [task] = await runningTasks(replicaA, 1);
      const busB = replicaB.events as RedisEventBus;
      let offset = 0;
      const viaLogs = await tail(
        followers,
        rounds,
        async (onChunk, signal) => {
          const pages = followTaskLog(replicaB, storage, task!.id, 0, { signal });
          void (async () => {
            for await (const page of pages) onChunk(page.data);
          })().catch(() => {});
          await busB.whenSubscribed();
        },
        async (_n, text) => {
          offset = (await appendTaskLog(replicaA, { taskId: task!.id, pod: task!.pod, offset, data: text })).nextOffset;
        },
      );
      const channel = `taskLog:bench-${followers}-${Math.random()}` as const;
      const viaBus = await tail(
        followers,
        rounds,
        async (onChunk, signal) => {
          const events = replicaB.events.subscribe(channel, signal);
          void (async () => {
            for await (const event of events) if (!isResync(event)) onChunk(event.data ?? "");
          })().catch(() => {});
          await busB.whenSubscribed();
        },
        (n, text) => replicaA.events.publish(channel, { taskId: "bench", offset: n, data: text, size: n, truncated: false, end: false }),
      );
      const logs = summarize(viaLogs);
      const raw = summarize(viaBus);
      opts.log(`task-logs: ${followers} followers, p99 ${logs.p99} ms (bus alone ${raw.p99} ms)`);
      results.push(
        figure({
          benchmark: BENCHMARK,
          name: `live tail p99, ${followers} follower${followers === 1 ? "" : "s"}`,
          value: logs.p99,
          unit: "ms",
          baseline: { name: "the same chunks published on the event bus alone", value: raw.p99 },
          note: "from the start of appendTaskLog on replica A to a taskLog follower on replica B (Redis event bus) seeing the chunk",
          details: { rounds, followTaskLog: logs, busAlone: raw },
        }),
      );
    }
    return results;
  } finally {
    for (const b of buses) await b.close().catch(() => {});
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
