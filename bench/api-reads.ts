// Reads through the API as other services send them. Two replicas in cluster mode (PostgreSQL and
// Redis, each its own OS process) serve 50 concurrent clients a mixed load of the contract's
// `Pools`, `Pool(name)` and `Tasks(pool)`, round-robin across the replicas: p99 and throughput,
// beside 50 clients reading the same rows with one raw SELECT each through pg. Then the RSS one
// replica adds for 1,000 idle subscriptions (SSE), beside its RSS at rest.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createApiToken } from "@berth/core/tokens";
import { contractOperation } from "../apps/api/test/support/contract.js";
import { figure, now, summarize, type BenchOptions, type BenchResult, type Summary } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { startChild, type Child } from "./support/processes.js";
import { watchRss } from "./support/rss.js";
import { seedPool } from "./support/seed.js";
import { subscribe, type SseSubscription } from "./support/sse.js";

const BENCHMARK = "api-reads";
const CLIENTS = 50;
const POOLS = 20;
const PODS_PER_POOL = 10;
const START_TIMEOUT_MS = 180_000;
const apiModule = new URL("./support/api-process.ts", import.meta.url);

type Kind = "pools" | "pool" | "tasks";
const KINDS: Kind[] = ["pools", "pool", "tasks"];
const poolName = (i: number) => `reads-${String(i % POOLS).padStart(2, "0")}`;

// The same rows the three operations return, each in one statement.
const RAW: Record<Kind, string> = {
  pools: `SELECT * FROM "Pool" ORDER BY name`,
  pool: `SELECT p.*, s.*, t.id AS task_id, t.type, t.status FROM "Pool" pl JOIN "Pod" p ON p."poolId" = pl.id JOIN "Slot" s ON s."podId" = p.id LEFT JOIN "Task" t ON t.id = s."taskId" WHERE pl.name = $1 ORDER BY p."createdAt", s.index`,
  tasks: `SELECT t.* FROM "Task" t JOIN "Pool" pl ON pl.id = t."poolId" WHERE pl.name = $1 ORDER BY t."createdAt" DESC LIMIT 50`,
};

interface LoadResult {
  latencyMs: Summary;
  byKind: Record<Kind, Summary>;
  perSecond: number;
  requests: number;
  errors: number;
}

/** `clients` loops sharing one budget of `total` requests (and a time limit); each request is timed. */
async function load(total: number, clients: number, maxMs: number, send: (kind: Kind, i: number) => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  const byKind: Record<Kind, number[]> = { pools: [], pool: [], tasks: [] };
  let next = 0;
  let errors = 0;
  const started = now();
  const deadline = started + maxMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total && now() < deadline) {
        const i = next++;
        const kind = KINDS[i % KINDS.length]!;
        const t0 = now();
        const ok = await send(kind, i).catch(() => false);
        const ms = now() - t0;
        if (!ok) errors++;
        latencies.push(ms);
        byKind[kind].push(ms);
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  return {
    latencyMs: summarize(latencies),
    byKind: { pools: summarize(byKind.pools), pool: summarize(byKind.pool), tasks: summarize(byKind.tasks) },
    perSecond: latencies.length / seconds,
    requests: latencies.length,
    errors,
  };
}

async function startApi(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = startChild(apiModule, { BENCH_API_ENV: JSON.stringify(env) });
  const { url } = await child.next<{ type: "listening"; url: string }>("listening", START_TIMEOUT_MS);
  return { child, url };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const requests = opts.quick ? 600 : 6_000;
  const idleSubscriptions = opts.quick ? 200 : 1_000;
  const database = await freshDatabase(opts.postgresUrl, 2);
  const dataDir = await mkdtemp(join(tmpdir(), "berth-bench-reads-"));
  const adminToken = `bench-admin-${randomBytes(12).toString("hex")}`;
  const children: Child[] = [];
  const raw = new pg.Pool({ connectionString: database.url, max: 20 });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const subscriptions: SseSubscription[] = [];
  try {
    for (let i = 0; i < POOLS; i++) await seedPool(database.db.prisma, { name: poolName(i), pods: PODS_PER_POOL, busyPerPod: 2 });
    const { token: viewer } = await createApiToken(database.db.prisma, { name: "bench-dashboards", role: "viewer" });
    const env = {
      CLUSTER_MODE: "true",
      REDIS_URL: opts.redisUrl,
      REDIS_PREFIX: opts.redisPrefix,
      STORAGE_TYPE: "local",
      BERTH_ADMIN_TOKEN: adminToken,
      BERTH_DATA_DIR: dataDir,
      BERTH_DEMO_POOL: "false",
      DATABASE_URL: database.url,
      // Both replicas together have as many connections as the raw baseline.
      DATABASE_POOL_SIZE: "10",
      // The benchmark's clients share two tokens: the budgets and caps of one token are not what is measured.
      RATE_LIMIT_PER_MINUTE: "10000000",
      MAX_SUBSCRIPTIONS_PER_TOKEN: String(idleSubscriptions + 10),
    };
    opts.log(`${BENCHMARK}: two replicas, ${POOLS} pools of ${PODS_PER_POOL} pods; ${CLIENTS} clients, ${requests} requests of Pools / Pool / Tasks`);
    const replicas = await Promise.all([startApi({ ...env, REPLICA_ID: "reads-a" }), startApi({ ...env, REPLICA_ID: "reads-b" })]);
    children.push(...replicas.map((r) => r.child));

    const documents: Record<Kind, string> = { pools: contractOperation("Pools"), pool: contractOperation("Pool"), tasks: contractOperation("Tasks") };
    const variables = (kind: Kind, i: number) => (kind === "pools" ? {} : kind === "pool" ? { name: poolName(i) } : { pool: poolName(i), first: 50 });
    const viaApi = async (kind: Kind, i: number) => {
      const response = await fetch(`${replicas[i % 2]!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query: documents[kind], variables: variables(kind, i) }),
      });
      const body = (await response.json()) as { errors?: unknown };
      return response.ok && !body.errors;
    };
    const viaSql = async (kind: Kind, i: number) => {
      await raw.query(RAW[kind], kind === "pools" ? [] : [poolName(i)]);
      return true;
    };
    // Warm both sides (connections, plans, JIT) before measuring.
    await load(Math.min(300, requests), CLIENTS, 60_000, viaApi);
    await load(Math.min(300, requests), CLIENTS, 60_000, viaSql);
    const api = await load(requests, CLIENTS, 180_000, viaApi);
    const sql = await load(requests, CLIENTS, 180_000, viaSql);
    if (api.errors > 0) throw new Error(`${api.errors} of ${api.requests} API reads failed`);

    opts.log(`${BENCHMARK}: ${idleSubscriptions} idle subscriptions on one replica`);
    const a = replicas[0]!;
    await new Promise((r) => setTimeout(r, 1_000));
    const rss = await watchRss(a.child.pid);
    const atRest = (await rss.stop()).startMiB;
    const opening = await watchRss(a.child.pid);
    const query = contractOperation("SlotChanged");
    for (let i = 0; i < idleSubscriptions; i += 50) {
      subscriptions.push(...(await Promise.all(Array.from({ length: Math.min(50, idleSubscriptions - i) }, (_, k) => subscribe({ url: a.url, token: viewer, query, variables: { pool: poolName(i + k) }, agent })))));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const held = await opening.stop();

    const details = { clients: CLIENTS, pools: POOLS, podsPerPool: PODS_PER_POOL, api, rawSelect: sql, idle: { subscriptions: idleSubscriptions, rssAtRestMiB: atRest, ...held } };
    return [
      figure({
        benchmark: BENCHMARK,
        name: `mixed reads, ${CLIENTS} clients, 2 replicas: p99`,
        value: api.latencyMs.p99,
        unit: "ms",
        baseline: { name: "one raw SELECT of the same rows, p99", value: sql.latencyMs.p99 },
        target: { on: "ratio", op: "<", limit: 30 },
        note: "Pools, Pool(name) and Tasks(pool) of the contract in turn, round-robin across the replicas; clients, replicas and PostgreSQL share the machine's cores",
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: `mixed reads, ${CLIENTS} clients, 2 replicas: throughput`,
        value: api.perSecond,
        unit: "req/s",
        baseline: { name: "one raw SELECT of the same rows", value: sql.perSecond },
        note: "the API parses, admits, prices and executes each operation, and assembles pools' summaries (several statements) where the baseline sends one",
      }),
      figure({
        benchmark: BENCHMARK,
        name: `RSS of ${idleSubscriptions} idle subscriptions`,
        value: held.growthMiB,
        unit: "MiB",
        baseline: { name: "the replica's RSS at rest", value: atRest },
        target: { on: "value", op: "<", limit: 100 },
        note: `SSE slotChanged on ${POOLS} pools (shared executions); ${((held.growthMiB * 1024) / idleSubscriptions).toFixed(1)} KiB each`,
      }),
    ];
  } finally {
    for (const s of subscriptions) s.close();
    agent.destroy();
    await raw.end();
    await Promise.all(children.map((c) => c.stop()));
    await database.drop();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
