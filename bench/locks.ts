// One lock acquired and released, one after another, on the same Redis: Berth's LockService
// (Lua acquire with a fencing token, compare-and-delete release) against raw SET NX PX + DEL
// and against @sesamecare-oss/redlock with a single Redis.
import { Redlock } from "@sesamecare-oss/redlock";
import { Redis } from "ioredis";
import { createLockService, createRedisLockService, type LockBackend } from "@berth/core/locks";
import { boundedLoop, figure, now, summarize, type BenchOptions, type BenchResult } from "./harness.js";

const BENCHMARK = "locks";
const TTL_MS = 10_000;

type Variant = { name: string; once(key: string): Promise<void> };

function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Microseconds the service itself adds per acquire + release (validation, timers, metrics), with a backend that answers at once. */
async function serviceOverheadUs(count: number): Promise<number> {
  const backend: LockBackend = {
    tryAcquire: async (_key, _holder, ttlMs) => ({ fencingToken: 1, value: "v", acquiredAt: new Date(), expiresAt: new Date(Date.now() + ttlMs) }),
    extend: async (_key, _value, ttlMs) => new Date(Date.now() + ttlMs),
    release: async () => true,
    list: async () => [],
  };
  const service = createLockService(backend, "bench");
  const once = async () => (await service.acquire("k", TTL_MS))!.release();
  await boundedLoop({ maxCount: 1000, maxMs: 5_000 }, once);
  const started = now();
  const ran = await boundedLoop({ maxCount: count, maxMs: 10_000 }, once);
  return ((now() - started) * 1000) / ran;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const rounds = opts.quick ? 3 : 6;
  const perBatch = opts.quick ? 200 : 800;
  const clients = [connect(opts.redisUrl), connect(opts.redisUrl), connect(opts.redisUrl)] as const;
  try {
    await Promise.all(clients.map((c) => c.ping()));
    const service = createRedisLockService(clients[0], { replicaId: "bench", prefix: opts.redisPrefix });
    const redlock = new Redlock([clients[2]], { retryCount: 0, automaticExtensionThreshold: 0 });
    const variants: Variant[] = [
      {
        name: "LockService",
        async once(key) {
          const lock = await service.acquire(key, TTL_MS);
          if (!lock) throw new Error(`LockService: ${key} was not free`);
          if (!(await lock.release())) throw new Error(`LockService: ${key} was not released`);
        },
      },
      {
        name: "raw SET NX PX + DEL",
        async once(key) {
          const full = `${opts.redisPrefix}raw:${key}`;
          if ((await clients[1].set(full, "holder", "PX", TTL_MS, "NX")) !== "OK") throw new Error(`raw: ${key} was not free`);
          await clients[1].del(full);
        },
      },
      {
        name: "redlock",
        async once(key) {
          const lock = await redlock.acquire([`${opts.redisPrefix}redlock:${key}`], TTL_MS);
          await lock.release();
        },
      },
    ];
    const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    // Warm-up: scripts loaded into Redis, code paths compiled.
    for (const v of variants) await boundedLoop({ maxCount: 100, maxMs: 10_000 }, () => v.once("warm"));
    for (let round = 0; round < rounds; round++) {
      // Batches rotate so that each variant meets the machine's busy and quiet moments alike.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const v of order) {
        const times = samples.get(v.name)!;
        await boundedLoop({ maxCount: perBatch, maxMs: 30_000 }, async () => {
          const started = now();
          await v.once("k");
          times.push(now() - started);
        });
      }
    }
    await service.close();
    const overheadUs = await serviceOverheadUs(opts.quick ? 2_000 : 10_000);
    const [berth, raw, red] = variants.map((v) => summarize(samples.get(v.name)!)) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>, ReturnType<typeof summarize>];
    const details = { opsPerVariant: berth.count, sequential: true, ttlMs: TTL_MS, latencyMs: { lockService: berth, raw, redlock: red }, serviceOverheadUs: overheadUs };
    const roundTrips = `both make two round trips; LockService runs a Lua script each way (acquire also increments the fencing counter and reads the server time) and spends ${Math.round(overheadUs)} µs of its own per acquire+release (validation, expiry timer, abort signal, metrics labelled by key)`;
    return [
      figure({
        benchmark: BENCHMARK,
        name: "acquire+release p50 vs raw",
        value: berth.p50,
        unit: "ms",
        baseline: { name: "raw SET NX PX + DEL", value: raw.p50 },
        target: { on: "ratio", op: "<=", limit: 1.5 },
        note: roundTrips,
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "acquire+release p50 vs redlock",
        value: berth.p50,
        unit: "ms",
        baseline: { name: "@sesamecare-oss/redlock", value: red.p50 },
        target: { on: "ratio", op: "<", limit: 1 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "acquire+release p99 vs raw",
        value: berth.p99,
        unit: "ms",
        baseline: { name: "raw SET NX PX + DEL", value: raw.p99 },
      }),
    ];
  } finally {
    for (const c of clients) c.disconnect();
  }
}
