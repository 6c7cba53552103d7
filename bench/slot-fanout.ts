// Live slot changes to many subscribers. One API process (its own OS process) serves 1,000 SSE
// subscriptions to slotChanged(pool); a client process sends mutations that each change one
// slot and times each until its event reached the last subscriber. Then two replicas in cluster
// mode share PostgreSQL and Redis: a mutation on A reaches a subscriber on B, and what B adds
// after Redis delivered the message is compared with raw Redis pub/sub between two processes.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiToken } from "@berth/core/tokens";
import { figure, summarize, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import type { FanoutSample } from "./support/fanout-client.js";
import { startChild, type Child } from "./support/processes.js";
import { seedPool } from "./support/seed.js";

const BENCHMARK = "slot-fanout";
const POOL = "fanout";
const START_TIMEOUT_MS = 180_000;

const apiModule = new URL("./support/api-process.ts", import.meta.url);

async function startApi(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = startChild(apiModule, { BENCH_API_ENV: JSON.stringify(env) });
  const { url } = await child.next<{ type: "listening"; url: string }>("listening", START_TIMEOUT_MS);
  return { child, url };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const subscriberCount = opts.quick ? 200 : 1000;
  const mutations = opts.quick ? 15 : 100;
  const database = await freshDatabase(opts.postgresUrl, 2);
  const dataDir = await mkdtemp(join(tmpdir(), "berth-bench-fanout-"));
  const adminToken = `bench-admin-${randomBytes(12).toString("hex")}`;
  const children: Child[] = [];
  const started = <T extends { child: Child } | Child>(c: T): T => {
    children.push("child" in c ? c.child : c);
    return c;
  };
  try {
    await seedPool(database.db.prisma, { name: POOL, pods: 1 });
    const { token: viewer } = await createApiToken(database.db.prisma, { name: "bench-viewer", role: "viewer" });
    const env = {
      BERTH_ADMIN_TOKEN: adminToken,
      BERTH_DATA_DIR: dataDir,
      BERTH_DEMO_POOL: "false",
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: "10",
      // One viewer token holds every subscription of the benchmark.
      MAX_SUBSCRIPTIONS_PER_TOKEN: String(subscriberCount + 10),
      RATE_LIMIT_PER_MINUTE: "1000000",
    };
    const client = started(startChild(new URL("./support/fanout-client.ts", import.meta.url)));
    await client.next("ready", START_TIMEOUT_MS);
    const measure = async (apiUrl: string) =>
      (await client.ask<{ type: "measured"; samples: FanoutSample[] }>({ type: "measure", apiUrl, token: adminToken, pool: POOL, mutations }, "measured", 600_000)).samples;
    const subscribe = (url: string, count: number) => client.ask({ type: "subscribe", url, token: viewer, pool: POOL, count }, "subscribed", 300_000);
    const reset = () => client.ask({ type: "reset" }, "reset", 30_000);

    // One API, the in-process event bus.
    opts.log(`${BENCHMARK}: one API process, 1 subscriber then ${subscriberCount}, ${mutations} mutations each`);
    const single = started(await startApi(env));
    await subscribe(single.url, 1);
    const one = await measure(single.url);
    await reset();
    await subscribe(single.url, subscriberCount);
    const many = await measure(single.url);
    await reset();
    await single.child.stop();

    // Two replicas over Redis.
    opts.log(`${BENCHMARK}: two replicas in cluster mode over Redis`);
    const cluster = { ...env, CLUSTER_MODE: "true", REDIS_URL: opts.redisUrl, REDIS_PREFIX: opts.redisPrefix, STORAGE_TYPE: "local" };
    const [a, b] = await Promise.all([startApi({ ...cluster, REPLICA_ID: "bench-a" }), startApi({ ...cluster, REPLICA_ID: "bench-b" })]).then((r) => r.map(started));
    const echo = started(startChild(new URL("./support/redis-echo.ts", import.meta.url), { BENCH_REDIS_URL: opts.redisUrl, BENCH_REDIS_PREFIX: opts.redisPrefix }));
    await echo.next("ready", START_TIMEOUT_MS);
    await subscribe(b!.url, 1);
    await client.ask({ type: "rawSubscribe", redisUrl: opts.redisUrl, channel: `${opts.redisPrefix}events:slot:${POOL}` }, "rawSubscribed", 30_000);
    const cross = await measure(a!.url);
    const same = await measure(b!.url);
    const { oneWayMs } = await client.ask<{ type: "pinged"; oneWayMs: number[] }>({ type: "rawPing", redisUrl: opts.redisUrl, prefix: opts.redisPrefix, count: mutations }, "pinged", 120_000);
    await reset();

    const oneLast = summarize(one.map((s) => s.lastMs));
    const manyLast = summarize(many.map((s) => s.lastMs));
    const added = summarize(cross.map((s) => s.lastMs - s.rawMs!));
    const rawOneWay = summarize(oneWayMs);
    const crossLast = summarize(cross.map((s) => s.lastMs));
    const sameLast = summarize(same.map((s) => s.lastMs));
    const details = {
      subscribers: subscriberCount,
      mutations,
      singleApi: {
        oneSubscriber: { lastMs: oneLast, mutationResponseMs: summarize(one.map((s) => s.mutationMs)) },
        many: {
          firstMs: summarize(many.map((s) => s.firstMs)),
          lastMs: manyLast,
          spreadMs: summarize(many.map((s) => s.lastMs - s.firstMs)),
          mutationResponseMs: summarize(many.map((s) => s.mutationMs)),
        },
      },
      replicas: {
        mutationOnAToSubscriberOnBMs: crossLast,
        mutationOnBToSubscriberOnBMs: sameLast,
        redisDeliveryAfterMutationMs: summarize(cross.map((s) => s.rawMs!)),
        addedAfterRedisMs: added,
        rawPubSubOneWayMs: rawOneWay,
      },
    };
    return [
      figure({
        benchmark: BENCHMARK,
        name: `mutation → last of ${subscriberCount} subscribers p99`,
        value: manyLast.p99,
        unit: "ms",
        baseline: { name: "1 subscriber p99", value: oneLast.p99 },
        target: { on: "value", op: "<", limit: 100 },
        note: "includes the mutation itself (task written, slot allocated or released); the client times all subscribers on one event loop, so the last one also waits for the client to read the others",
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: `mutation → last of ${subscriberCount} subscribers p50`,
        value: manyLast.p50,
        unit: "ms",
        baseline: { name: "1 subscriber p50", value: oneLast.p50 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "replica B's added latency after Redis p50",
        value: added.p50,
        unit: "ms",
        baseline: { name: "raw pub/sub one way between two processes", value: rawOneWay.p50 },
        target: { on: "value", op: "<=", limit: 2 },
        note: "from the moment a raw Redis subscriber of the bus channel gets the message until B's SSE subscriber gets the event (B's event bus, GraphQL execution, SSE write, loopback)",
      }),
      figure({
        benchmark: BENCHMARK,
        name: "mutation on A → subscriber on B p50",
        value: crossLast.p50,
        unit: "ms",
        baseline: { name: "mutation on B → subscriber on B", value: sameLast.p50 },
      }),
    ];
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await database.drop();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
