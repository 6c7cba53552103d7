import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heartbeat, registerAgent } from "../../src/agents/index.js";
import { createRedisEventBus } from "../../src/events/index.js";
import { registry } from "../../src/metrics/index.js";
import { activeCapacityWindowOf, PoolController } from "../../src/pools/index.js";
import { approveTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, type CoreHarness } from "../support/core.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../support/services.js";

// The autoscaler's scenarios, on a real database with an injected clock: bursts, pending
// approvals, recycling, scheduled capacity.
describe.each(backends)("scaling scenarios on %s", (backend) => {
  let h: CoreHarness;
  let runtime: FakeRuntime;
  let controller: PoolController;

  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(async () => {
    await h.reset();
    runtime = new FakeRuntime();
    controller = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 3600 });
  });
  afterAll(async () => {
    await controller.close();
    await h.close();
  });

  /** Plays the agents: every pod that started registers (and takes pending work); all heartbeat. */
  const agentsUp = async () => {
    for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: { in: ["Starting", "Ready", "Draining"] } }, orderBy: { name: "asc" } })) {
      if (p.phase === "Starting") await registerAgent(h.ctx, p.name);
      else await heartbeat(h.ctx, p.name);
    }
  };
  const livePods = () => h.ctx.prisma.pod.count({ where: { phase: { notIn: ["Lost", "Terminating"] } } });
  const events = (kind: string) => h.ctx.prisma.scalingEvent.findMany({ where: { kind }, orderBy: { at: "asc" } });
  const submitMany = async (n: number, type = "plan") => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await submitTask(h.ctx, { pool: "burst", type })).id);
    return ids;
  };
  const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.pool === "burst")?.value;
  const statusCounts = async () =>
    Object.fromEntries((await h.ctx.prisma.task.groupBy({ by: ["status"], _count: { _all: true } })).map((g) => [g.status, g._count._all]));

  it("a burst of 30 tasks on 3-slot pods reaches 10 pods in one pass, and every task starts once they are up", async () => {
    await controller.createPool({ name: "burst", minPods: 0, maxPods: 10, slotsPerPod: 3 });
    await submitMany(30);
    const [report] = await controller.reconcileAll();
    expect(report!.decision).toMatchObject({ kind: "scale_up", fromPods: 0, toPods: 10 });
    expect(report!.created).toHaveLength(10);
    expect(await livePods()).toBe(10);
    expect((await events("scale_up")).map((e) => [e.fromPods, e.toPods])).toEqual([[0, 10]]);
    await agentsUp();
    expect(await statusCounts()).toEqual({ running: 30 });
  });

  it("with pods already up and busy, a burst adds the rest in one pass, inside the scale-up cooldown", async () => {
    await controller.createPool({ name: "burst", minPods: 2, maxPods: 10, slotsPerPod: 3, scaleUpCooldownSeconds: 300 });
    await controller.reconcileAll();
    await agentsUp();
    await submitMany(6);
    await submitMany(24);
    h.clock.advance(5);
    const [report] = await controller.reconcileAll();
    expect(report!.decision).toMatchObject({ kind: "scale_up", fromPods: 2, toPods: 10 });
    await agentsUp();
    expect(await statusCounts()).toEqual({ running: 30 });
  });

  it("a submit with no free slot runs the pool's pass at once (no timer): pods start from zero", async () => {
    const kicked = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 3600, demand: true });
    try {
      await kicked.createPool({ name: "burst", minPods: 0, maxPods: 10, slotsPerPod: 3 });
      await submitTask(h.ctx, { pool: "burst", type: "plan" });
      const deadline = Date.now() + 5000;
      // The pass creates the pod, then records its scaling event: wait for both.
      while (((await livePods()) === 0 || (await events("scale_up")).length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await livePods()).toBe(1);
      expect((await events("scale_up"))[0]!.reason).toContain("cold start");
    } finally {
      await kicked.close();
    }
  });

  it("100 plans waiting for approval on 3-slot pods hold at most 34 pods, and new work still gets pods up to maxPods", async () => {
    await controller.createPool({ name: "burst", minPods: 0, maxPods: 50, slotsPerPod: 3, stabilizationWindowSeconds: 0, scaleDownCooldownSeconds: 0, newPodGraceSeconds: 0 });
    const plans = await submitMany(100, "plan_and_apply");
    await controller.reconcileAll();
    await agentsUp();
    for (const id of plans) {
      const t = await h.ctx.prisma.task.findUniqueOrThrow({ where: { id } });
      await reportTask(h.ctx, { taskId: id, pod: t.podName!, status: "apply_pending" });
    }
    expect(await h.ctx.prisma.slot.count({ where: { state: "reserved" } })).toBe(100);
    for (let i = 0; i < 5; i++) {
      h.clock.advance(120);
      await controller.reconcileAll();
      await agentsUp();
      expect(await livePods()).toBeLessThanOrEqual(34);
    }
    expect(await livePods()).toBe(34);
    expect(await events("scale_down")).toEqual([]);
    // Metrics tell the two apart: nearly every slot is held, none of them runs.
    expect(await gauge("berth_pool_utilization")).toBeCloseTo(100 / 102);
    expect(await gauge("berth_pool_running_utilization")).toBe(0);

    await submitMany(30);
    await controller.reconcileAll();
    await agentsUp();
    expect(await livePods()).toBe(44);
    expect(await h.ctx.prisma.task.count({ where: { status: "running" } })).toBe(30);
    await submitMany(60);
    h.clock.advance(5);
    await controller.reconcileAll();
    expect(await livePods()).toBe(50);
  });

  it("recycling replaces pods past maxTasksPerPod or maxPodAgeSeconds without interrupting a running or reserved slot", async () => {
    await controller.createPool({ name: "burst", minPods: 2, maxPods: 4, slotsPerPod: 2, maxTasksPerPod: 4, maxPodAgeSeconds: 3600, newPodGraceSeconds: 0 });
    await controller.reconcileAll();
    await agentsUp();
    // A pod is never deleted by the runtime while the database holds a busy slot of it.
    // (Recorded, not thrown: the controller treats a failed runtime delete as one to retry.)
    const busyAtDelete: string[] = [];
    runtime.beforeDelete = async (pod) => {
      const busy = await h.ctx.prisma.slot.count({ where: { pod: { name: pod }, state: { not: "idle" } } });
      if (busy > 0) busyAtDelete.push(pod);
    };
    const running = await submitTask(h.ctx, { pool: "burst", type: "plan" });
    const plan = await submitTask(h.ctx, { pool: "burst", type: "plan_and_apply" });
    expect(plan.podName).toBe(running.podName);
    await reportTask(h.ctx, { taskId: plan.id, pod: plan.podName!, status: "apply_pending" });
    const worn = running.podName!;
    // Allocation counts the tasks each pod started; the pod has reached the limit.
    await h.ctx.prisma.pod.update({ where: { name: worn }, data: { tasksStarted: 4 } });

    h.clock.advance(5);
    const [first] = await controller.reconcileAll();
    expect(first!.recycled).toEqual([worn]);
    expect(first!.decision).toMatchObject({ kind: "ensure_min", create: 1 });
    expect((await h.ctx.prisma.pod.findUniqueOrThrow({ where: { name: worn } })).phase).toBe("Draining");
    await agentsUp();
    // New work lands on the other pods, never on the drained one.
    const fresh = await submitTask(h.ctx, { pool: "burst", type: "plan" });
    expect(fresh.podName).not.toBe(worn);

    // The work on the drained pod goes on: the approval applies on the same slot.
    h.clock.advance(5);
    await controller.reconcileAll();
    expect(await approveTask(h.ctx, plan.id)).toMatchObject({ status: "applying", podName: worn, slotIndex: plan.slotIndex });
    await reportTask(h.ctx, { taskId: plan.id, pod: worn, status: "succeeded" });
    await reportTask(h.ctx, { taskId: running.id, pod: worn, status: "succeeded" });
    await reportTask(h.ctx, { taskId: fresh.id, pod: fresh.podName!, status: "succeeded" });
    h.clock.advance(5);
    const [second] = await controller.reconcileAll();
    expect(second!.deleted).toContain(worn);
    expect(runtime.calls.filter((c) => c.op === "delete").map((c) => c.pod)).toEqual([worn]);

    // Age: an hour later every pod is past maxPodAgeSeconds; each is drained, deleted when idle, replaced.
    await agentsUp();
    const before = (await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" } })).map((p) => p.name);
    h.clock.advance(3600);
    await agentsUp();
    await controller.reconcileAll();
    await agentsUp();
    await controller.reconcileAll();
    const after = (await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" } })).map((p) => p.name);
    expect(after).toHaveLength(2);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    expect((await events("pod_recycle")).length).toBe(1 + before.length);

    expect(busyAtDelete).toEqual([]);
    expect(await statusCounts()).toEqual({ succeeded: 3 });
    expect(await h.ctx.prisma.task.count({ where: { attempts: { gt: 1 } } })).toBe(0);
  });

  it("a capacity window pre-warms its pods by its start, shows as schedule_override, and lets them go after it ends", async () => {
    await controller.createPool({
      name: "burst",
      minPods: 0,
      maxPods: 5,
      newPodGraceSeconds: 0,
      stabilizationWindowSeconds: 0,
      scaleDownCooldownSeconds: 0,
      capacityWindows: [{ cron: "0 9 * * *", timeZone: "Europe/Berlin", durationSeconds: 3600, minPods: 3, prewarmSeconds: 120 }],
    });
    // 09:00 in Berlin on 2026-01-01 is 08:00 UTC (CET).
    h.clock.current = new Date("2026-01-01T07:57:00Z");
    await controller.reconcileAll();
    expect(await livePods()).toBe(0);
    const pool = () => h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "burst" } });
    expect(activeCapacityWindowOf(h.ctx, await pool())).toBeNull();

    h.clock.current = new Date("2026-01-01T07:58:30Z");
    const [report] = await controller.reconcileAll();
    expect(report!.decision).toMatchObject({ kind: "ensure_min", create: 3 });
    await agentsUp();
    h.clock.current = new Date("2026-01-01T08:00:00Z");
    await controller.reconcileAll();
    expect(await h.ctx.prisma.pod.count({ where: { phase: "Ready" } })).toBe(3);
    const overrides = await events("schedule_override");
    expect(overrides).toHaveLength(1);
    expect(overrides[0]!.reason).toContain("from 2026-01-01T08:00:00.000Z to 2026-01-01T09:00:00.000Z: minPods 3");
    expect(activeCapacityWindowOf(h.ctx, await pool())).toMatchObject({ index: 0, startsAt: new Date("2026-01-01T08:00:00Z") });

    // Past its end the idle pods go, stepwise (maxStep 2 per pass).
    h.clock.current = new Date("2026-01-01T09:00:01Z");
    await agentsUp();
    await controller.reconcileAll();
    h.clock.advance(5);
    await agentsUp();
    await controller.reconcileAll();
    h.clock.advance(5);
    await controller.reconcileAll();
    expect(await livePods()).toBe(0);
    expect(activeCapacityWindowOf(h.ctx, await pool())).toBeNull();
  });
});

describe.skipIf(!postgresAvailable || !redisAvailable)("a submit on one replica", () => {
  it("runs the pool's pass on another replica at once, through the Redis event bus", async () => {
    const h = await openCore("postgres");
    const prefix = `berth-test-${randomBytes(4).toString("hex")}:events:`;
    const busA = createRedisEventBus({ url: REDIS_URL, prefix });
    const busB = createRedisEventBus({ url: REDIS_URL, prefix });
    const runtime = new FakeRuntime();
    // Replica B runs the background work; replica A only answers the API (the submit).
    const b = new PoolController({ ...h.ctx, events: busB }, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 3600, demand: true });
    try {
      await b.createPool({ name: "remote", minPods: 0, maxPods: 10, slotsPerPod: 3 });
      while (busB.subscriberCount("poolDemand") === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      const ctxA = { ...h.ctx, events: busA };
      await Promise.all(Array.from({ length: 7 }, () => submitTask(ctxA, { pool: "remote", type: "plan" })));
      const deadline = Date.now() + 5000;
      const pods = () => h.ctx.prisma.pod.count({ where: { pool: { name: "remote" } } });
      while ((await pods()) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await pods()).toBe(3);
    } finally {
      await b.close();
      await busA.close();
      await busB.close();
      await h.close();
    }
  });
});
