// Fire delay of schedules: 100 schedules on a pool, dispatched by two API replicas in cluster
// mode (PostgreSQL, Redis) with their background jobs on, first spread over the seconds, then all
// due on the same second. Each fire time's delay is from when it was due to when its task was
// written (the task row's creation time, on the database's clock). Baseline: a client's
// submitTask round trip to the same API.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createSchedule } from "@berth/core/schedules";
import { createMemoryEventBus } from "@berth/core/events";
import { boundedLoop, figure, now, summarize, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { startChild, type Child } from "./support/processes.js";
import { seedPool } from "./support/seed.js";

const BENCHMARK = "schedules";
const POOL = "scheduled";
const SCHEDULES = 100;
const EVERY_SECONDS = 5;
const START_TIMEOUT_MS = 180_000;
const apiModule = new URL("./support/api-process.ts", import.meta.url);

async function startApi(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = startChild(apiModule, { BENCH_API_ENV: JSON.stringify(env), BENCH_API_BACKGROUND: "true" });
  const { url } = await child.next<{ type: "listening"; url: string }>("listening", START_TIMEOUT_MS);
  return { child, url };
}

interface FireRow {
  status: string;
  trigger: string;
  delayMs: number | null;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const bursts = opts.quick ? 2 : 6;
  const database = await freshDatabase(opts.postgresUrl, 2);
  const dataDir = await mkdtemp(join(tmpdir(), "berth-bench-schedules-"));
  const adminToken = `bench-admin-${randomBytes(12).toString("hex")}`;
  const children: Child[] = [];
  try {
    // No pods: every task stays pending, so the figure is the dispatch alone.
    await seedPool(database.db.prisma, { name: POOL, pods: 0, pool: { autoscale: false } });
    const env = {
      BERTH_ADMIN_TOKEN: adminToken,
      BERTH_DATA_DIR: dataDir,
      BERTH_DEMO_POOL: "false",
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: "10",
      CLUSTER_MODE: "true",
      REDIS_URL: opts.redisUrl,
      REDIS_PREFIX: opts.redisPrefix,
      STORAGE_TYPE: "local",
    };
    opts.log(`${BENCHMARK}: two replicas with background jobs`);
    const [a, b] = await Promise.all([startApi({ ...env, REPLICA_ID: "bench-a" }), startApi({ ...env, REPLICA_ID: "bench-b" })]);
    children.push(a!.child, b!.child);

    // Baseline: the same kind of work asked for by a client, one submission at a time.
    const submit = async (url: string, i: number) => {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({
          query: `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { __typename } }`,
          variables: { input: { pool: POOL, type: "baseline", payload: { i } } },
        }),
      });
      const body = (await response.json()) as { data?: { submitTask: { __typename: string } } };
      if (body.data?.submitTask.__typename !== "MutationSubmitTaskSuccess") throw new Error(`baseline submit failed: ${JSON.stringify(body)}`);
    };
    const baselineMs: number[] = [];
    await boundedLoop({ maxCount: opts.quick ? 50 : 200, maxMs: 30_000 }, async (i) => {
      const started = now();
      await submit(i % 2 ? a!.url : b!.url, i);
      baselineMs.push(now() - started);
    });

    // Schedules, created in core as the API would. Two loads, one after the other: `spread`, 100
    // schedules every 10 s with up to 9 s of jitter (about 10 fire times a second), and `burst`,
    // 100 schedules due on the same second every 5 s.
    const ctx = { prisma: database.db.prisma, events: createMemoryEventBus(), now: () => new Date() };
    const scenario = async (name: "spread" | "burst", cron: string, jitterSeconds: number, fireTimes: number, periodSeconds: number) => {
      const startAt = new Date(Math.ceil((Date.now() + 5000) / (periodSeconds * 1000)) * periodSeconds * 1000);
      const endAt = new Date(startAt.getTime() + (fireTimes - 1) * periodSeconds * 1000);
      for (let i = 0; i < SCHEDULES; i++) {
        await createSchedule(ctx, { name: `${name}-${i}`, cron, jitterSeconds, pool: POOL, taskType: name, payload: { schedule: i }, overlap: "allow_all", startAt, endAt });
      }
      opts.log(`${BENCHMARK}: ${name}: ${SCHEDULES} schedules × ${fireTimes} fire times from ${startAt.toISOString()}`);
      await sleep(endAt.getTime() + jitterSeconds * 1000 - Date.now() + 3000);
      const expected = SCHEDULES * fireTimes;
      const deadline = Date.now() + 30_000;
      let rows: FireRow[];
      for (;;) {
        rows = await database.db.prisma.$queryRaw<FireRow[]>`
          SELECT r.status::text AS status, r.trigger, (EXTRACT(EPOCH FROM (t."createdAt" - r."dueAt")) * 1000)::float8 AS "delayMs"
          FROM "ScheduleRun" r JOIN "Schedule" s ON s.id = r."scheduleId" LEFT JOIN "Task" t ON t.id = r."taskId"
          WHERE s.name LIKE ${`${name}-%`}`;
        if ((rows.length >= expected && rows.every((r) => r.status !== "pending")) || Date.now() > deadline) break;
        await sleep(500);
      }
      const tasks = await database.db.prisma.task.count({ where: { type: name } });
      const submitted = rows.filter((r) => r.status === "submitted" && r.delayMs !== null);
      const details = {
        schedules: SCHEDULES,
        cron,
        jitterSeconds,
        fireTimes: expected,
        runs: rows.length,
        submitted: submitted.length,
        tasks,
        lateRuns: rows.filter((r) => r.trigger === "catch_up").length,
        fireDelayMs: summarize(submitted.map((r) => r.delayMs!)),
      };
      const byReplica = await database.db.prisma.scheduleRun.groupBy({ by: ["replica"], where: { schedule: { name: { startsWith: `${name}-` } } }, _count: true });
      Object.assign(details, { runsByReplica: Object.fromEntries(byReplica.map((r) => [r.replica, r._count])) });
      if (rows.length !== expected || submitted.length !== expected || tasks !== expected) {
        throw new Error(`${name}: expected ${expected} fire times, each with one task: ${JSON.stringify(details)}`);
      }
      await database.db.prisma.schedule.deleteMany({ where: { name: { startsWith: `${name}-` } } });
      return details;
    };
    const spread = await scenario("spread", "*/10 * * * * *", 9, opts.quick ? 1 : 3, 10);
    const burst = await scenario("burst", `*/${EVERY_SECONDS} * * * * *`, 0, bursts, EVERY_SECONDS);
    const baseline = summarize(baselineMs);
    const details = { spread, burst, submitTaskRoundTripMs: baseline };
    const note = "from the fire time (jitter included) to its task's row; the dispatch job runs once a second on one of 2 replicas and submits through submitTask, 8 schedules at a time";
    return [
      figure({
        benchmark: BENCHMARK,
        name: `fire delay p99, ${SCHEDULES} spread schedules on 2 replicas`,
        value: spread.fireDelayMs.p99,
        unit: "ms",
        baseline: { name: "submitTask round trip p99", value: baseline.p99 },
        target: { on: "value", op: "<", limit: 500 },
        note: `${note}; Temporal's stated target is "generally within 1 second"`,
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: `fire delay p50, ${SCHEDULES} spread schedules on 2 replicas`,
        value: spread.fireDelayMs.p50,
        unit: "ms",
        baseline: { name: "submitTask round trip p50", value: baseline.p50 },
        target: { on: "value", op: "<", limit: 250 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: `fire delay p99, ${SCHEDULES} schedules due on the same second`,
        value: burst.fireDelayMs.p99,
        unit: "ms",
        baseline: { name: "submitTask round trip p99", value: baseline.p99 },
        target: { on: "value", op: "<", limit: 1000 },
        note: "one pass submits all 100: the last waits for the 99 before it",
      }),
      figure({
        benchmark: BENCHMARK,
        name: `fire delay p50, ${SCHEDULES} schedules due on the same second`,
        value: burst.fireDelayMs.p50,
        unit: "ms",
        baseline: { name: "submitTask round trip p50", value: baseline.p50 },
      }),
    ];
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await database.drop();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
