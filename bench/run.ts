// `pnpm bench [-- --only <name>[,<name>]] [--quick]`: runs the benchmarks against the machine's
// PostgreSQL and Redis, writes bench/results/latest.json and prints a table.
//   BENCH_DATABASE_URL  PostgreSQL server to create the benchmark databases on (default 127.0.0.1:5432, user postgres)
//   BENCH_REDIS_URL     Redis (default redis://127.0.0.1:6379); every key and channel carries a random prefix
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { failed, formatTable, loadAverage, machineFacts, now, writeResults, type BenchOptions, type BenchResult } from "./harness.js";
import { dropStaleDatabases } from "./support/database.js";

type Benchmark = { run(opts: BenchOptions): Promise<BenchResult[]> };

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  "slot-allocation": () => import("./slot-allocation.js"),
  "slot-fanout": () => import("./slot-fanout.js"),
  locks: () => import("./locks.js"),
  reconcile: () => import("./reconcile.js"),
  "pool-query": () => import("./pool-query.js"),
  storage: () => import("./storage.js"),
  "watch-lists": () => import("./watch-lists.js"),
  chaos: () => import("./chaos.js"),
  "two-replicas": () => import("./two-replicas.js"),
  "api-reads": () => import("./api-reads.js"),
  idle: () => import("./idle.js"),
  schedules: () => import("./schedules.js"),
  "time-to-capacity": () => import("./time-to-capacity.js"),
  "task-logs": () => import("./task-logs.js"),
};

/** The whole set must end within this; past it, what ran is written and the rest is reported as not run. */
const RUN_LIMIT_MS = 40 * 60_000;
const RESULTS = fileURLToPath(new URL("./results/latest.json", import.meta.url));

function parse() {
  const { values } = parseArgs({
    // `pnpm bench -- --only x` passes the `--` along.
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: { only: { type: "string", multiple: true }, quick: { type: "boolean", default: false } },
  });
  const only = values.only?.flatMap((o) => o.split(",")).map((o) => o.trim()).filter(Boolean) ?? null;
  const unknown = only?.filter((name) => !(name in BENCHMARKS)) ?? [];
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; choose from ${Object.keys(BENCHMARKS).join(", ")}\n`);
    process.exit(2);
  }
  return { only, quick: values.quick ?? false };
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

const { only, quick } = parse();
const startedAt = new Date();
const started = now();
const loadAtStart = loadAverage();
const opts: BenchOptions = {
  quick,
  postgresUrl: process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
  redisUrl: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
  redisPrefix: `berth-bench:${randomBytes(4).toString("hex")}:`,
  log: (message) => process.stderr.write(`[${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`),
};

const names = only ?? Object.keys(BENCHMARKS);
const results: BenchResult[] = [];

async function finish(code: number): Promise<never> {
  const meta = { startedAt: startedAt.toISOString(), seconds: Math.round((now() - started) / 100) / 10, quick, only, ...machineFacts(), loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadAverage() };
  await writeResults(RESULTS, meta, results);
  await deleteKeys(opts.redisUrl, opts.redisPrefix).catch((error: unknown) => opts.log(`could not clean Redis keys: ${(error as Error).message}`));
  console.log(formatTable(results));
  console.log(`\n${results.filter((r) => r.met).length} of ${results.filter((r) => r.met !== null).length} targets met in ${meta.seconds} s${quick ? " (quick run: indicative only)" : ""}; load average ${loadAtStart.join(" ")} → ${meta.loadAverageAtEnd.join(" ")}; written to ${RESULTS}`);
  process.exit(code);
}

const overall = setTimeout(() => {
  const done = new Set(results.map((r) => r.benchmark));
  for (const name of names) if (!done.has(name)) results.push(failed(name, new Error(`not finished within the run limit of ${RUN_LIMIT_MS / 60_000} minutes`)));
  void finish(1);
}, RUN_LIMIT_MS);
overall.unref();

await dropStaleDatabases(opts.postgresUrl).catch(() => {});
let failures = 0;
for (const name of names) {
  opts.log(`${name}: starting`);
  const benchStarted = now();
  try {
    const benchmark = await BENCHMARKS[name]!();
    results.push(...(await benchmark.run(opts)));
  } catch (error) {
    failures++;
    opts.log(`${name}: failed: ${(error as Error)?.stack ?? error}`);
    results.push(failed(name, error));
  }
  opts.log(`${name}: done in ${((now() - benchStarted) / 1000).toFixed(1)} s`);
}
clearTimeout(overall);
await finish(failures > 0 ? 1 : 0);
