// The contract's `query Pool` through yoga.fetch (the whole HTTP handling, no socket) on pools
// of 30 and 300 pods × 3 slots, one slot in three running: latency, and SQL statements per
// request, which must stay the same whatever the number of pods.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig } from "@berth/core/cluster";
import { createServices } from "../apps/api/src/services.js";
import { createBerthYoga } from "../apps/api/src/yoga.js";
import { boundedLoop, figure, median, now, summarize, type BenchOptions, type BenchResult, type Summary } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { MemoryRuntime } from "./support/memory-runtime.js";
import { seedPool } from "./support/seed.js";
import { countSqlStatements } from "./support/sql-counter.js";

const BENCHMARK = "pool-query";
const SIZES = [30, 300] as const;
const SCALING_EVENTS = 60;

// As in the public contract (shared/contract/operations.graphql).
const POOL_QUERY = `query Pool($name: String!) {
  pool(name: $name) {
    name slotsPerPod minPods maxPods scaleUpAt scaleDownAt reservationTtlSeconds autoscale utilization
    pods {
      name phase createdAt lastHeartbeatAt
      slots { index state reservedUntil task { id type status } }
    }
    scalingEvents(last: 50) { kind fromPods toPods utilization reason at }
  }
}`;

interface Measured {
  pods: number;
  latencyMs: Summary;
  statementsPerRequest: number;
  /** Per request, the time statements were in flight, summed (the summary's queries overlap). */
  sqlMs: Summary;
  statementsSeen: number[];
  responseBytes: number;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const requests = opts.quick ? 60 : 300;
  const database = await freshDatabase(opts.postgresUrl, 2);
  const dataDir = await mkdtemp(join(tmpdir(), "berth-bench-api-"));
  const adminToken = `bench-admin-${randomBytes(12).toString("hex")}`;
  const counter = countSqlStatements();
  let close = async () => {};
  try {
    const config = loadConfig({ BERTH_ADMIN_TOKEN: adminToken, BERTH_DATA_DIR: dataDir, BERTH_ENV: "test", LOG_LEVEL: "error", DATABASE_URL: database.url, DATABASE_POOL_SIZE: "10" });
    const services = await createServices(config, { database: config.database, runtime: new MemoryRuntime() });
    close = () => services.close();
    const yoga = createBerthYoga(services);
    const body = (name: string) => JSON.stringify({ query: POOL_QUERY, variables: { name }, operationName: "Pool" });
    const send = async (name: string) => {
      const response = await yoga.fetch("http://berth.bench/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: body(name),
      });
      return { status: response.status, text: await response.text() };
    };

    const measured: Measured[] = [];
    for (const pods of SIZES) {
      const name = `query-${pods}`;
      const { pool } = await seedPool(services.prisma, { name, pods, busyPerPod: 1 });
      await services.prisma.scalingEvent.createMany({
        data: Array.from({ length: SCALING_EVENTS }, (_, i) => ({ poolId: pool.id, kind: "scale_up", fromPods: i, toPods: i + 1, utilization: 0.9, reason: "bench", at: new Date(Date.now() - i * 1000) })),
      });
      await services.prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
      const check = await send(name);
      const parsed = JSON.parse(check.text) as { data?: { pool?: { pods: unknown[] } }; errors?: unknown[] };
      if (check.status !== 200 || parsed.errors || parsed.data?.pool?.pods.length !== pods) {
        throw new Error(`the Pool query did not return ${pods} pods: ${check.status} ${check.text.slice(0, 300)}`);
      }
      await boundedLoop({ maxCount: 20, maxMs: 30_000 }, () => send(name).then(() => true));
      const latencies: number[] = [];
      const statements: number[] = [];
      const sqlMs: number[] = [];
      await boundedLoop({ maxCount: requests, maxMs: 120_000 }, async () => {
        counter.reset();
        const started = now();
        await send(name);
        latencies.push(now() - started);
        statements.push(counter.count);
        sqlMs.push(counter.inFlightMs);
      });
      measured.push({ pods, latencyMs: summarize(latencies), statementsPerRequest: median(statements), sqlMs: summarize(sqlMs), statementsSeen: [...new Set(statements)].sort((a, b) => a - b), responseBytes: check.text.length });
      opts.log(`${BENCHMARK}: ${pods} pods: p50 ${measured.at(-1)!.latencyMs.p50} ms, p99 ${measured.at(-1)!.latencyMs.p99} ms, ${median(statements)} statements`);
    }
    const [small, large] = measured as [Measured, Measured];
    const details = { requestsPerSize: requests, sizes: measured, statementsAtLargest: counter.top(12) };
    return [
      figure({
        benchmark: BENCHMARK,
        name: "p99 at 300 pods",
        value: large.latencyMs.p99,
        unit: "ms",
        baseline: { name: "p99 at 30 pods", value: small.latencyMs.p99 },
        target: { on: "value", op: "<", limit: 100 },
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "p50 at 300 pods",
        value: large.latencyMs.p50,
        unit: "ms",
        baseline: { name: "p50 at 30 pods", value: small.latencyMs.p50 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "SQL statements per request at 300 pods",
        value: large.statementsPerRequest,
        unit: "statements",
        baseline: { name: "at 30 pods", value: small.statementsPerRequest },
        target: { on: "ratio", op: "<=", limit: 1 },
        note: "counted at pg.Client#query: token, pool, pods with their slots and tasks (loaded once for the summary and the pods field), pending count, scaling events",
      }),
    ];
  } finally {
    counter.restore();
    await close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
