// The chaos soak, long (the test suite runs a 40 s version): two API replicas on PostgreSQL and
// Redis, a shared Kubernetes double whose pods run the real agent, agents killed at random,
// manual scale-downs, one replica killed with SIGKILL and started again over five minutes, with
// clients submitting short tasks until at least 10,000 have been answered (12 minutes at most). Its figures are counts that must stay 0, each
// beside the number of tasks of the same run, and the throughput it kept through the storm.
import { runChaos } from "../apps/api/test/faults/support/chaos.js";
import { figure, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const seconds = opts.quick ? 40 : 300;
  const f = await runChaos({
    seconds,
    clients: opts.quick ? 12 : 48,
    seed: 20261129,
    redisUrl: opts.redisUrl,
    maxWorkMs: 10,
    maxPods: 10,
    // The storm's actions spread over `seconds`; clients go on until 10,000 tasks (at most 12 minutes).
    minTasks: opts.quick ? 0 : 10_000,
    maxSeconds: opts.quick ? 40 : 720,
    database: async () => {
      const db = await freshDatabase(opts.postgresUrl, 2);
      await db.db.close();
      return { url: db.url, drop: db.drop };
    },
    log: opts.log,
  });
  opts.log(`chaos: ${JSON.stringify({ ...f, slotViolations: undefined })}`);
  const tasks = { name: "tasks in the same run", value: f.tasks };
  const zero = (name: string, value: number, note: string) =>
    figure({ benchmark: "chaos", name, value, unit: "count", baseline: tasks, target: { on: "value", op: "<=", limit: 0 }, note });
  const violations = Object.values(f.slotViolations).reduce((n, rows) => n + rows.length, 0);
  return [
    figure({
      benchmark: "chaos",
      name: `tasks through a ${seconds} s storm (${f.agentKills} agents killed, ${f.manualScales} manual scales, ${f.podsLost} pods lost, ${f.apiKilled} killed)`,
      value: f.tasks,
      unit: "tasks",
      baseline: { name: "tasks per second", value: f.tasksPerSecond },
      target: { on: "value", op: ">=", limit: opts.quick ? 0 : 10_000 },
      note: `by status ${JSON.stringify(f.byStatus)}`,
    }),
    zero("slots given twice", f.slotsGivenTwice, "overlapping assignments of one slot in the audit table"),
    zero("busy pods deleted at the Kubernetes API", f.busyPodDeletions, "checked by the cluster double when each deletion begins"),
    zero("berth_busy_pod_deletions_total on the live replicas", f.busyPodDeletionsMetric, "deletes of pods holding work, refused at the runtime call"),
    zero("tasks not ended after the drain", f.notTerminal, "every task succeeded or failed"),
    zero("tasks run more often than maxAttempts", f.overAttempted, "requeues stay within the attempt limit"),
    zero("deadlock errors seen by clients", f.deadlockErrors, "one lock order on every path"),
    zero("other unexpected client errors", f.unexpectedClientErrors.length, f.unexpectedClientErrors.slice(0, 3).join(" | ")),
    zero("slot table violations", violations, "slots leaked or tasks without their slot"),
  ];
}
