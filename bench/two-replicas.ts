// Two replicas as the README starts them (PostgreSQL, Redis, local pods running @berth/agent),
// tasks flowing in waves for five minutes (the test suite runs one): no pod whose agent
// heartbeats may be declared Lost, and simultaneous cron triggers on both replicas always answer
// with the run. Figures that must be 0 sit beside the tasks and triggers of the same run.
import { runTwoReplicas } from "../apps/api/test/faults/support/two-replicas.js";
import { figure, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const seconds = opts.quick ? 60 : 300;
  const f = await runTwoReplicas({
    seconds,
    redisUrl: opts.redisUrl,
    database: async () => {
      const db = await freshDatabase(opts.postgresUrl, 2);
      await db.db.close();
      return { url: db.url, drop: db.drop };
    },
  });
  opts.log(`two replicas: ${f.submitted} tasks ${JSON.stringify(f.byStatus)}, scaling ${JSON.stringify(f.scaling)}, ${f.triggers.length} triggers`);
  const failedTriggers = f.triggers.filter((t) => !t.ok).length;
  return [
    figure({
      benchmark: "two-replicas",
      name: `pod_lost events for heartbeating pods over ${seconds} s`,
      value: f.lost.length,
      unit: "count",
      baseline: { name: "tasks in the same run", value: f.submitted },
      target: { on: "value", op: "<=", limit: 0 },
      note: `tasks ${JSON.stringify(f.byStatus)}; scaling ${[...new Set(f.scaling)].join(", ")}`,
    }),
    figure({
      benchmark: "two-replicas",
      name: "simultaneous cron triggers that did not answer with the run",
      value: failedTriggers,
      unit: "count",
      baseline: { name: "triggers sent", value: f.triggers.length },
      target: { on: "value", op: "<=", limit: 0 },
    }),
  ];
}
