// Task run duration and queue wait are observed by pool and type (and phase), never by task id;
// an agent registering again for a pod already registered counts as a restart.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { registerAgent } from "../../src/agents/index.js";
import { registry } from "../../src/metrics/index.js";
import { approveTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { openCore, seedPool, type CoreHarness } from "../support/core.js";

type Sample = { labels: Partial<Record<string, string | number>>; value: number; metricName?: string };
async function samples(name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  return metric ? ((await metric.get()).values as Sample[]) : [];
}
const countOf = async (name: string, labels: Record<string, string>) =>
  (await samples(name)).find((s) => s.metricName === `${name}_count` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;

describe("task metrics", () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore("pglite", { watchPools: ["metered"] });
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  it("observe queue wait at placement and each phase's run time at its end, by pool, type and phase", async () => {
    const { pods } = await seedPool(h.ctx, "metered", 1, 2);
    const waits = await countOf("berth_task_queue_wait_seconds", { pool: "metered", type: "plan_and_apply" });
    const plans = await countOf("berth_task_run_seconds", { pool: "metered", type: "plan_and_apply", phase: "plan" });
    const applies = await countOf("berth_task_run_seconds", { pool: "metered", type: "plan_and_apply", phase: "apply" });
    const task = await submitTask(h.ctx, { pool: "metered", type: "plan_and_apply" });
    expect(await countOf("berth_task_queue_wait_seconds", { pool: "metered", type: "plan_and_apply" })).toBe(waits + 1);
    await reportTask(h.ctx, { taskId: task.id, pod: pods[0], status: "apply_pending", output: { plan: "x" } });
    expect(await countOf("berth_task_run_seconds", { pool: "metered", type: "plan_and_apply", phase: "plan" })).toBe(plans + 1);
    await approveTask(h.ctx, task.id);
    await reportTask(h.ctx, { taskId: task.id, pod: pods[0], status: "succeeded" });
    expect(await countOf("berth_task_run_seconds", { pool: "metered", type: "plan_and_apply", phase: "apply" })).toBe(applies + 1);
    const labelNames = new Set((await samples("berth_task_run_seconds")).flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(["le", "phase", "pool", "type"]);
  });

  it("count an agent registering again for a known pod as a restart, not its first registration", async () => {
    const pool = await h.ctx.prisma.pool.create({ data: { name: "metered" } });
    await h.ctx.prisma.pod.create({ data: { name: "metered-new", poolId: pool.id, phase: "Starting", slots: { create: [{ index: 0 }] } } });
    const restarts = async () => (await samples("berth_agent_restarts_total")).find((s) => s.labels.pool === "metered")?.value ?? 0;
    const before = await restarts();
    await registerAgent(h.ctx, "metered-new");
    expect(await restarts()).toBe(before);
    await registerAgent(h.ctx, "metered-new");
    expect(await restarts()).toBe(before + 1);
  });
});
