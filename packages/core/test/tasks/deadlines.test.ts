import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heartbeat, registerAgent, syncAgent } from "../../src/agents/index.js";
import { ValidationError } from "../../src/errors.js";
import { PoolController } from "../../src/pools/index.js";
import { approveTask, cancelTask, enforceDeadlines, getTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, seedPool, type CoreHarness } from "../support/core.js";

describe.each(backends)("run deadlines and stops that reach the agent, on %s", (backend) => {
  let h: CoreHarness;

  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  const slotOf = async (taskId: string) => h.ctx.prisma.slot.findUnique({ where: { taskId } });
  const idleSlots = async (pod: string) => h.ctx.prisma.slot.count({ where: { pod: { name: pod }, state: "idle", taskId: null } });

  it("every task gets a run deadline: the pool's default, its own, or none by explicit choice; a bad one changes nothing", async () => {
    await seedPool(h.ctx, "web", 1, 3, { taskTimeoutSeconds: 600 });
    const byPool = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const own = await submitTask(h.ctx, { pool: "web", type: "plan", timeoutSeconds: 30 });
    const none = await submitTask(h.ctx, { pool: "web", type: "plan", timeoutSeconds: null });
    const at = h.clock.now().getTime();
    expect(byPool.deadlineAt!.getTime()).toBe(at + 600_000);
    expect(own.deadlineAt!.getTime()).toBe(at + 30_000);
    expect(none.deadlineAt).toBeNull();
    const before = await h.ctx.prisma.task.count();
    for (const bad of [0, -1, 1.5, 8 * 86_400]) {
      const error = await submitTask(h.ctx, { pool: "web", type: "plan", timeoutSeconds: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe("timeoutSeconds");
    }
    expect(await h.ctx.prisma.task.count()).toBe(before);
  });

  it("a task whose agent goes silent on it (but keeps heartbeating) fails with deadline_exceeded at its deadline; the agent's next sync frees its slot", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 2);
    const pod = pods[0]!;
    const task = await submitTask(h.ctx, { pool: "web", type: "plan", timeoutSeconds: 60 });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    h.clock.advance(59);
    await syncAgent(h.ctx, { pod, active: [] });
    expect(await enforceDeadlines(h.ctx)).toEqual([]);
    h.clock.advance(2);
    expect(await enforceDeadlines(h.ctx)).toEqual([task.id]);
    const failed = await getTask(h.ctx, task.id);
    expect(failed).toMatchObject({ status: "failed", failureReason: "deadline_exceeded" });
    expect(failed.error).toMatch(/^deadline_exceeded/);
    // Its agent had confirmed running it: the slot waits for the agent to say it stopped.
    expect(await slotOf(task.id)).toMatchObject({ state: "running" });
    const answer = await syncAgent(h.ctx, { pod, active: [] });
    expect(answer.assignments).toEqual([]);
    expect(await slotOf(task.id)).toBeNull();
    expect(await idleSlots(pod)).toBe(2);
  });

  it("an agent still running a task the server ended is told to stop it; the slot is freed once it stops", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1);
    const pod = pods[0]!;
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    const waiting = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await cancelTask(h.ctx, task.id);
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "cancelled", failureReason: "cancelled" });
    // The work may still be stopping: nothing new lands on its slot.
    expect((await syncAgent(h.ctx, { pod, active: [task.id] })).stop).toEqual([task.id]);
    expect((await getTask(h.ctx, waiting.id)).status).toBe("pending");
    // The agent stopped it: the slot is free and the waiting task takes it.
    await syncAgent(h.ctx, { pod, active: [] });
    expect(await getTask(h.ctx, waiting.id)).toMatchObject({ status: "running", podName: pod });
  });

  it("an agent that never confirms a stop has its slot freed by the pass after the pool's stopGraceSeconds", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1, { stopGraceSeconds: 30 });
    const pod = pods[0]!;
    const controller = new PoolController(h.ctx, { runtimes: { local: new FakeRuntime() }, heartbeatTimeoutSeconds: 300 });
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    await cancelTask(h.ctx, task.id);
    h.clock.advance(20);
    await heartbeat(h.ctx, pod);
    await controller.reconcileAll();
    expect(await slotOf(task.id)).toMatchObject({ state: "running" });
    h.clock.advance(11);
    await heartbeat(h.ctx, pod);
    await controller.reconcileAll();
    expect(await slotOf(task.id)).toBeNull();
    expect(await idleSlots(pod)).toBe(1);
  });

  it("a task its agent never acknowledged frees its slot at once when cancelled", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await cancelTask(h.ctx, task.id);
    expect(await slotOf(task.id)).toBeNull();
    expect(await idleSlots(pods[0]!)).toBe(1);
  });

  it("with timeoutPolicy requeue, a planning task past its deadline goes back to pending (within maxAttempts), and its agent is told to stop", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1, { timeoutPolicy: "requeue", maxAttempts: 2 });
    const pod = pods[0]!;
    const task = await submitTask(h.ctx, { pool: "web", type: "plan", timeoutSeconds: 10 });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    h.clock.advance(11);
    await enforceDeadlines(h.ctx);
    // Requeued and placed again at once on the slot it freed: a new attempt.
    const again = await getTask(h.ctx, task.id);
    expect(again).toMatchObject({ status: "running", attempts: 2 });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    h.clock.advance(11);
    await enforceDeadlines(h.ctx);
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "failed", failureReason: "deadline_exceeded", attempts: 2 });
  });

  it("waiting for approval has no run deadline (the reservation bounds it); the apply gets a deadline of its own", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1);
    const pod = pods[0]!;
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply", timeoutSeconds: 100 });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "apply_pending" });
    expect((await getTask(h.ctx, task.id)).deadlineAt).toBeNull();
    h.clock.advance(1000);
    expect(await enforceDeadlines(h.ctx)).toEqual([]);
    const applying = await approveTask(h.ctx, task.id);
    expect(applying.deadlineAt!.getTime()).toBe(h.clock.now().getTime() + 100_000);
    expect(applying.acknowledgedAt).toBeNull();
  });

  it("a Starting pod drained while its agent registers never ends Ready without slots", async () => {
    const runtime = new FakeRuntime();
    const controller = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
    await controller.createPool({ name: "race", minPods: 0, maxPods: 10, autoscale: false });
    for (let round = 0; round < 5; round++) {
      await controller.scalePool("race", 6);
      const starting = await h.ctx.prisma.pod.findMany({ where: { phase: "Starting" } });
      await Promise.all([controller.scalePool("race", 0), ...starting.map((p) => registerAgent(h.ctx, p.name).catch(() => null))]);
      const pods = await h.ctx.prisma.pod.findMany({ include: { slots: true } });
      for (const p of pods) {
        if (p.phase === "Ready" || p.phase === "Draining") expect(p.slots, `${p.name} ${p.phase}`).toHaveLength(3);
        else expect(p.phase).toBe("Terminating");
      }
      await h.ctx.prisma.pod.deleteMany({ where: { phase: "Terminating" } });
      await controller.scalePool("race", 0);
    }
  });
});
