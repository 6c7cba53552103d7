// One reconcile pass (PoolController.reconcilePool) over a pool of 100, 1,000 and 5,000 pods × 3
// slots in steady state: every pod Ready and heartbeating, one slot in three running, nothing
// to scale. The runtime is in memory, so the pass is Berth's own work against PostgreSQL.
import type { CoreContext } from "@berth/core/context";
import type { Pool } from "@berth/core/db";
import { createMemoryEventBus } from "@berth/core/events";
import { PoolController, listPods } from "@berth/core/pools";
import { figure, median, now, timed, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { MemoryRuntime } from "./support/memory-runtime.js";
import { seedPool } from "./support/seed.js";
import { countSqlStatements } from "./support/sql-counter.js";

const BENCHMARK = "reconcile";
const SIZES = [100, 1000, 5000] as const;
/** Whole pool observed in one statement: the least any pass has to read. */
const READ_POOL = `SELECT p.name, p.phase, s.index, s.state, s."taskId" FROM "Pod" p JOIN "Slot" s ON s."podId" = p.id WHERE p."poolId" = $1::uuid`;

interface SizeResult {
  pods: number;
  passMs: number;
  passesMs: number[];
  statements: number;
  /** Of the pass, the time spent waiting for PostgreSQL; the rest is Prisma's mapping and Berth's own code. */
  sqlMs: number;
  rawReadMs: number;
  listPodsMs: number;
  /** Pods with nothing but their slots' states: all the autoscaler and the conditions read of them. */
  stateSnapshotMs: number;
  topStatements: { sql: string; count: number }[];
  decision: string;
  errors: string[];
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const passes = opts.quick ? 2 : 4;
  const database = await freshDatabase(opts.postgresUrl, 4);
  const counter = countSqlStatements();
  try {
    const events = createMemoryEventBus();
    const ctx: CoreContext = { prisma: database.db.prisma, events, now: () => new Date() };
    const runtime = new MemoryRuntime();
    // Heartbeats an hour old would be Lost; the seeded pods beat "now", and the pass takes seconds at most.
    const controller = new PoolController(ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 3600 });
    const measured: SizeResult[] = [];
    for (const pods of SIZES) {
      const seeded = await seedPool(ctx.prisma, { name: `rec-${pods}`, pods, busyPerPod: 1, pool: { maxPods: pods * 2, scaleDownAt: 0.2, scaleUpAt: 0.8 } });
      runtime.seed(seeded.pool.name, seeded.podNames);
      await ctx.prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
      const pool = seeded.pool as Pool;
      // The first pass writes the pool's conditions; the timed ones find nothing to change.
      await controller.reconcilePool(pool);
      const times: number[] = [];
      let statements = 0;
      const sqlTimes: number[] = [];
      let report: Awaited<ReturnType<PoolController["reconcilePool"]>> | undefined;
      for (let i = 0; i < passes; i++) {
        counter.reset();
        const pass = await timed(() => controller.reconcilePool(pool));
        times.push(pass.ms);
        statements = counter.count;
        sqlTimes.push(counter.inFlightMs);
        report = pass.result;
      }
      const topStatements = counter.top(6);
      const rawReads: number[] = [];
      const lists: number[] = [];
      const snapshots: number[] = [];
      const stateSnapshot = () =>
        ctx.prisma.pod.findMany({
          where: { poolId: pool.id },
          orderBy: [{ createdAt: "asc" }, { name: "asc" }],
          select: { name: true, phase: true, createdAt: true, readyAt: true, slots: { select: { state: true }, orderBy: { index: "asc" } } },
        });
      for (let i = 0; i < 3; i++) {
        snapshots.push((await timed(stateSnapshot)).ms);
        const started = now();
        await ctx.prisma.$queryRawUnsafe(READ_POOL, pool.id);
        rawReads.push(now() - started);
        lists.push((await timed(() => listPods(ctx, pool.id))).ms);
      }
      const result: SizeResult = {
        pods,
        passMs: median(times),
        passesMs: times.map((t) => Math.round(t)),
        statements,
        sqlMs: median(sqlTimes),
        rawReadMs: median(rawReads),
        listPodsMs: median(lists),
        stateSnapshotMs: median(snapshots),
        topStatements,
        decision: `${report?.decision.kind}: ${report?.decision.reason}`,
        errors: report?.errors ?? [],
      };
      measured.push(result);
      opts.log(`${BENCHMARK}: ${pods} pods: pass ${Math.round(result.passMs)} ms, ${statements} SQL statements (${Math.round(result.sqlMs)} ms in flight), listPods ${Math.round(result.listPodsMs)} ms`);
      // Each size in its own pool; the previous one is removed so it does not weigh on the next.
      await ctx.prisma.pool.delete({ where: { id: pool.id } });
    }
    await events.close();
    const [small, middle, large] = measured as [SizeResult, SizeResult, SizeResult];
    const listPodsCalls = "no statement per pod (the same count at every size); the pass reads the pool's pods twice (autoscale, conditions) as phases and slot states only";
    const details = { passes, sizes: measured };
    return [
      figure({
        benchmark: BENCHMARK,
        name: "pass at 100 pods",
        value: small.passMs,
        unit: "ms",
        baseline: { name: "one raw SELECT of the pool's pods and slots", value: small.rawReadMs },
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "pass at 1,000 pods (ratio 1000/100)",
        value: middle.passMs,
        unit: "ms",
        baseline: { name: "pass at 100 pods", value: small.passMs },
        target: { on: "value", op: "<", limit: 500 },
        note: `${listPodsCalls}; at 1,000 pods one listPods takes ${Math.round(middle.listPodsMs)} ms, pods with slot states only ${Math.round(middle.stateSnapshotMs)} ms; ${Math.round(middle.sqlMs)} ms of the pass wait on PostgreSQL`,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "pass at 5,000 pods (ratio 5000/1000)",
        value: large.passMs,
        unit: "ms",
        baseline: { name: "pass at 1,000 pods", value: middle.passMs },
        note: `linear would be 5; at 5,000 pods one listPods takes ${Math.round(large.listPodsMs)} ms, pods with slot states only ${Math.round(large.stateSnapshotMs)} ms`,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "SQL statements per pass at 5,000 pods",
        value: large.statements,
        unit: "statements",
        baseline: { name: "at 100 pods", value: small.statements },
        note: "a ratio above 1 would mean statements per pod (N+1)",
      }),
    ];
  } finally {
    counter.restore();
    await database.drop();
  }
}
