import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heartbeat, registerAgent } from "../../src/agents/index.js";
import { isResync } from "../../src/events/index.js";
import { PodBusyError, PodPhaseError, PoolController, PoolSpecError } from "../../src/pools/index.js";
import { approveTask, getTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, type CoreHarness } from "../support/core.js";

describe.each(backends)("pool controller on %s", (backend) => {
  let h: CoreHarness;
  let runtime: FakeRuntime;
  let controller: PoolController;

  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(async () => {
    await h.reset();
    runtime = new FakeRuntime();
    controller = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
  });
  afterAll(() => h.close());

  /** Plays the agents: every pod that started registers; all heartbeat. */
  const agentsUp = async () => {
    for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: { in: ["Starting", "Ready", "Draining"] } } })) {
      if (p.phase === "Starting") await registerAgent(h.ctx, p.name);
      else await heartbeat(h.ctx, p.name);
    }
  };
  const pods = async (pool: string) =>
    (await h.ctx.prisma.pod.findMany({ where: { pool: { name: pool }, phase: { notIn: ["Lost", "Terminating"] } }, orderBy: { name: "asc" } })).map((p) => p.name);
  const pass = async () => {
    const reports = await controller.reconcileAll();
    await agentsUp();
    return reports;
  };

  it("ensures minPods: pods are created in the runtime, register, and become Ready", async () => {
    await controller.createPool({ name: "web", minPods: 2, maxPods: 4 });
    const [report] = await controller.reconcileAll();
    expect(report!.decision.kind).toBe("ensure_min");
    expect(report!.created).toHaveLength(2);
    expect(runtime.calls.filter((c) => c.op === "create").map((c) => c.pod).sort()).toEqual(report!.created.sort());
    expect(report!.created.every((n) => /^web-[0-9a-f]{5}$/.test(n))).toBe(true);
    await agentsUp();
    const ready = await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" }, include: { slots: true } });
    expect(ready).toHaveLength(2);
    expect(ready.every((p) => p.slots.length === 3)).toBe(true);
    expect((await pass())[0]!.decision.kind).toBe("none");
  });

  it("a pod that becomes Ready makes its pool Available at once, without waiting for the next pass", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 2 });
    await controller.reconcileAll();
    const conditions = async () =>
      Object.fromEntries(
        ((await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "web" } })).conditions as { type: string; status: string; reason: string }[]).map((c) => [c.type, `${c.status} ${c.reason}`]),
      );
    expect(await conditions()).toEqual({ Available: "False NotEnoughReadyPods", Progressing: "True PodsStarting", Degraded: "False Healthy" });

    const abort = new AbortController();
    const announced: string[] = [];
    const listening = (async () => {
      for await (const e of h.events.subscribe("pool", abort.signal)) if (!isResync(e)) announced.push(`${e.name} ${e.podCount}`);
    })();
    await agentsUp();
    expect(await conditions()).toEqual({ Available: "True PodsReady", Progressing: "False Stable", Degraded: "False Healthy" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    abort.abort();
    await listening;
    expect(announced).toEqual(["web 1"]);
  });

  it("scenario 1: 3 pods, work on 2, scale to 1 — only the idle pod is deleted, busy ones keep their tasks", async () => {
    await controller.createPool({ name: "web", minPods: 0, maxPods: 5, autoscale: false });
    await controller.scalePool("web", 3);
    await agentsUp();
    h.clock.advance(120);
    await agentsUp();
    const all = await pods("web");
    const a = await submitTask(h.ctx, { pool: "web", type: "plan" });
    // Bin-packing puts the second task on the same pod; put work on a second pod by filling the first.
    await submitTask(h.ctx, { pool: "web", type: "plan" });
    await submitTask(h.ctx, { pool: "web", type: "plan" });
    const d = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(d.podName).not.toBe(a.podName);
    const idle = all.find((p) => p !== a.podName && p !== d.podName)!;

    const result = await controller.scalePool("web", 1);
    expect(result).toEqual({ requested: 1, applied: 1, blockedPods: 1, podCount: 2 });
    expect(runtime.calls.filter((c) => c.op === "delete").map((c) => c.pod)).toEqual([idle]);
    expect(await pods("web")).toEqual([a.podName, d.podName].sort());
    await reportTask(h.ctx, { taskId: d.id, pod: d.podName!, status: "succeeded" });
    expect((await getTask(h.ctx, a.id)).status).toBe("running");
    const events = await h.ctx.prisma.scalingEvent.findMany({ where: { kind: "manual_scale" }, orderBy: { at: "asc" } });
    expect(events.at(-1)!.reason).toContain("1 busy pod(s) kept");
  });

  it("scenario 2: an apply_pending task keeps its pod alive through repeated scale-down passes, then applies there", async () => {
    await controller.createPool({ name: "web", minPods: 0, maxPods: 3, newPodGraceSeconds: 0, stabilizationWindowSeconds: 0, scaleDownCooldownSeconds: 0 });
    await controller.scalePool("web", 2);
    await agentsUp();
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "apply_pending" });
    for (let i = 0; i < 6; i++) {
      h.clock.advance(10);
      await pass();
      expect(await controller.scalePool("web", 0)).toMatchObject({ blockedPods: 1, podCount: 1 });
    }
    expect(await pods("web")).toEqual([task.podName]);
    expect(runtime.calls.filter((c) => c.op === "delete").map((c) => c.pod)).not.toContain(task.podName);
    const approved = await approveTask(h.ctx, task.id);
    expect(approved).toMatchObject({ status: "applying", podName: task.podName, slotIndex: task.slotIndex });
    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "succeeded" });
    h.clock.advance(10);
    await pass();
    expect(await pods("web")).toEqual([]);
  });

  it("records scale_down_blocked, with the reason, when low utilisation is spread over busy pods", async () => {
    await controller.createPool({ name: "web", minPods: 0, maxPods: 3, slotsPerPod: 10, newPodGraceSeconds: 0, stabilizationWindowSeconds: 0, scaleDownCooldownSeconds: 0, autoscale: false });
    await controller.scalePool("web", 3);
    await agentsUp();
    for (const name of await pods("web")) {
      const pool = await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "web" } });
      const t = await h.ctx.prisma.task.create({ data: { poolId: pool.id, type: "x", status: "running", podName: name, slotIndex: 0 } });
      await h.ctx.prisma.slot.updateMany({ where: { pod: { name }, index: 0 }, data: { state: "running", taskId: t.id } });
    }
    await controller.updatePool("web", { autoscale: true });
    for (let i = 0; i < 3; i++) {
      h.clock.advance(10);
      await pass();
    }
    const blocked = await h.ctx.prisma.scalingEvent.findMany({ where: { kind: "scale_down_blocked" } });
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.reason).toContain("3 pod(s) have running or reserved slots");
    expect(await pods("web")).toHaveLength(3);
    expect(runtime.calls.filter((c) => c.op === "delete")).toEqual([]);
  });

  it("scenario 3: above 80 % adds pods up to maxPods, below 20 % removes idle ones down to minPods, cooldowns hold", async () => {
    await controller.createPool({
      name: "web",
      minPods: 1,
      maxPods: 4,
      slotsPerPod: 2,
      maxStep: 1,
      scaleUpCooldownSeconds: 30,
      scaleDownCooldownSeconds: 60,
      stabilizationWindowSeconds: 30,
      newPodGraceSeconds: 0,
    });
    await pass();
    const tasks = [];
    for (let i = 0; i < 8; i++) tasks.push(await submitTask(h.ctx, { pool: "web", type: "plan" }));
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.advance(10);
      await pass();
      counts.push((await pods("web")).length);
    }
    expect(Math.max(...counts)).toBe(4);
    // One pod per 30 s cooldown: never two scale-ups within 30 s.
    const ups = await h.ctx.prisma.scalingEvent.findMany({ where: { kind: "scale_up" }, orderBy: { at: "asc" } });
    for (let i = 1; i < ups.length; i++) expect(ups[i]!.at.getTime() - ups[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(30_000);
    for (const t of await h.ctx.prisma.task.findMany({ where: { status: "running" } })) await reportTask(h.ctx, { taskId: t.id, pod: t.podName!, status: "succeeded" });
    for (let i = 0; i < 30; i++) {
      h.clock.advance(10);
      await pass();
    }
    expect(await pods("web")).toHaveLength(1);
    const downs = await h.ctx.prisma.scalingEvent.findMany({ where: { kind: "scale_down" }, orderBy: { at: "asc" } });
    expect(downs.length).toBe(3);
    for (let i = 1; i < downs.length; i++) expect(downs[i]!.at.getTime() - downs[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(60_000);
  });

  it("no flapping: an oscillating load does not alternate scale-ups and scale-downs pass after pass", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 4, slotsPerPod: 2, newPodGraceSeconds: 0, stabilizationWindowSeconds: 60 });
    await pass();
    for (let cycle = 0; cycle < 10; cycle++) {
      const burst = [];
      for (let i = 0; i < 3; i++) burst.push(await submitTask(h.ctx, { pool: "web", type: "plan" }));
      h.clock.advance(10);
      await pass();
      for (const t of await h.ctx.prisma.task.findMany({ where: { status: "running" } })) await reportTask(h.ctx, { taskId: t.id, pod: t.podName!, status: "succeeded" });
      h.clock.advance(10);
      await pass();
    }
    const kinds = (await h.ctx.prisma.scalingEvent.findMany({ where: { kind: { in: ["scale_up", "scale_down"] } }, orderBy: { at: "asc" } })).map((e) => e.kind);
    const flips = kinds.filter((k, i) => i > 0 && k !== kinds[i - 1]).length;
    expect(flips).toBeLessThanOrEqual(1);
  });

  it("a pod whose agent stops heartbeating becomes Lost; its tasks fail (policy fail) and no slot leaks", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 1 });
    await pass();
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    // Its agent started it: what ran there is lost with the pod.
    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "running" });
    h.clock.advance(31);
    const [report] = await controller.reconcileAll();
    expect(report!.lost).toEqual([task.podName]);
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "failed", failureReason: "pod_lost" });
    expect((await getTask(h.ctx, task.id)).error).toContain("lost");
    expect(await h.ctx.prisma.slot.count({ where: { pod: { name: task.podName! } } })).toBe(0);
    expect(await h.ctx.prisma.slotAssignment.count({ where: { releasedAt: null } })).toBe(0);
    expect(await h.ctx.prisma.scalingEvent.count({ where: { kind: "pod_lost" } })).toBe(1);
    await expect(heartbeat(h.ctx, task.podName!)).rejects.toThrow(/Lost/);
  });

  it("with policy requeue, a lost pod's running tasks go back to pending and run elsewhere, up to maxAttempts", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 2, lostPodPolicy: "requeue", maxAttempts: 2, autoscale: false });
    await pass();
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "running" });
    h.clock.advance(31);
    await controller.reconcileAll();
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "pending", attempts: 1, podName: null });
    await agentsUp();
    const again = await getTask(h.ctx, task.id);
    expect(again).toMatchObject({ status: "running", attempts: 2 });
    await reportTask(h.ctx, { taskId: task.id, pod: again.podName!, status: "running" });
    h.clock.advance(31);
    await controller.reconcileAll();
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "failed", attempts: 2 });
  });

  it("a task its agent never confirmed starting goes back to pending when its pod is lost, whatever the policy, without using an attempt", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 1, lostPodPolicy: "fail", maxAttempts: 1 });
    await pass();
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(task).toMatchObject({ status: "running", attempts: 1 });
    h.clock.advance(31);
    const [report] = await controller.reconcileAll();
    expect(report!.lost).toEqual([task.podName]);
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "pending", attempts: 0, podName: null });
  });

  it("no pod is declared Lost in the replica's first heartbeat timeout: after a restart, agents get that long to answer again", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 1 });
    await pass();
    const [pod] = await pods("web");
    // Every replica was down for ten minutes; a new one starts now.
    h.clock.advance(600);
    const restarted = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
    h.clock.advance(20);
    expect((await restarted.reconcileAll())[0]!.lost).toEqual([]);
    // Its agent answers: nothing was lost.
    await heartbeat(h.ctx, pod!);
    h.clock.advance(20);
    expect((await restarted.reconcileAll())[0]!.lost).toEqual([]);
    // A pod that never answers is Lost once the replica has been up for the timeout.
    await h.ctx.prisma.pod.updateMany({ where: { name: pod! }, data: { lastHeartbeatAt: new Date(h.clock.now().getTime() - 40_000) } });
    expect((await restarted.reconcileAll())[0]!.lost).toEqual([pod]);
  });

  it("places new work only on pods heard from lately: a stale Ready pod gets nothing until it answers", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 1, autoscale: false });
    await pass();
    const [pod] = await pods("web");
    h.clock.advance(20);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(task.status).toBe("pending");
    await heartbeat(h.ctx, pod!);
    await controller.reconcileAll();
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "running", podName: pod });
  });

  it("invalid specs are typed errors and change nothing", async () => {
    await controller.createPool({ name: "web" });
    const before = await h.ctx.prisma.pool.findMany();
    const bad: [Record<string, unknown>, string][] = [
      [{ name: "Web_1" }, "name"],
      [{ name: "-web" }, "name"],
      [{ name: "x".repeat(41) }, "name"],
      [{ name: "a", minPods: 3, maxPods: 2 }, "minPods"],
      [{ name: "a", scaleUpAt: 0.3, scaleDownAt: 0.5 }, "scaleDownAt"],
      [{ name: "a", scaleUpAt: 1.2 }, "scaleUpAt"],
      [{ name: "a", slotsPerPod: 0 }, "slotsPerPod"],
      [{ name: "a", slotsPerPod: 65 }, "slotsPerPod"],
      [{ name: "a", runtime: "docker" }, "runtime"],
      [{ name: "a", runtime: "kubernetes" }, "runtime"],
      [{ name: "a", reservationTtlSeconds: 0 }, "reservationTtlSeconds"],
    ];
    for (const [input, field] of bad) {
      const error = await controller.createPool(input as never).catch((e) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(PoolSpecError);
      expect(error.field).toBe(field);
    }
    await expect(controller.createPool({ name: "web" })).rejects.toThrow(/already exists/);
    await expect(controller.updatePool("web", { minPods: 20 })).rejects.toBeInstanceOf(PoolSpecError);
    await expect(controller.scalePool("web", 11)).rejects.toBeInstanceOf(PoolSpecError);
    await expect(controller.updatePool("nope", { minPods: 1 })).rejects.toThrow(/not found/);
    expect(await h.ctx.prisma.pool.findMany()).toEqual(before);
    expect(runtime.calls).toEqual([]);
  });

  it("pods you can act on: drain (no new work, deleted once idle), delete when idle (refused when busy), clear a Lost pod", async () => {
    await controller.createPool({ name: "web", minPods: 0, maxPods: 4, autoscale: false });
    await controller.scalePool("web", 3);
    await agentsUp();
    const [a, b, c] = await pods("web");
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const busy = task.podName!;
    const idle = [a, b, c].filter((p) => p !== busy) as string[];

    // Busy: drained, it keeps its work and takes nothing new; it goes once its work is done.
    expect(await controller.drainPod("web", busy)).toEqual({ pod: busy, phase: "Draining" });
    const next = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(next.podName).not.toBe(busy);
    await expect(controller.deletePod("web", busy)).rejects.toBeInstanceOf(PodBusyError);
    expect((await getTask(h.ctx, task.id)).status).toBe("running");
    await reportTask(h.ctx, { taskId: task.id, pod: busy, status: "succeeded" });
    await pass();
    expect(await pods("web")).not.toContain(busy);
    expect(runtime.calls.filter((x) => x.op === "delete").map((x) => x.pod)).toContain(busy);

    // Idle: deleted at once.
    const spare = idle.find((p) => p !== next.podName)!;
    await controller.deletePod("web", spare);
    expect(await pods("web")).not.toContain(spare);

    // Lost: cleared at once; anything else is refused, and nothing changes.
    await expect(controller.clearLostPod("web", next.podName!)).rejects.toBeInstanceOf(PodPhaseError);
    await h.ctx.prisma.pod.updateMany({ where: { name: next.podName! }, data: { lastHeartbeatAt: new Date(h.clock.now().getTime() - 60_000) } });
    h.clock.advance(31);
    await controller.reconcileAll();
    expect((await h.ctx.prisma.pod.findUnique({ where: { name: next.podName! } }))!.phase).toBe("Lost");
    await controller.clearLostPod("web", next.podName!);
    expect(await h.ctx.prisma.pod.findUnique({ where: { name: next.podName! } })).toBeNull();
    await expect(controller.drainPod("web", "web-nope")).rejects.toThrow(/not found/);
    const kinds = (await h.ctx.prisma.scalingEvent.findMany({ orderBy: { at: "asc" } })).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["pod_drain", "pod_delete", "pod_lost"]));
  });

  it("says Degraded · Saturated when work waits with every slot busy at maxPods, and Progressing · ScalingUp when it adds pods", async () => {
    await controller.createPool({ name: "web", minPods: 1, maxPods: 1, slotsPerPod: 1, autoscale: true });
    await pass();
    await submitTask(h.ctx, { pool: "web", type: "plan" });
    await submitTask(h.ctx, { pool: "web", type: "plan" });
    await pass();
    const conditions = async () =>
      Object.fromEntries(((await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "web" } })).conditions as { type: string; status: string; reason: string }[]).map((x) => [x.type, `${x.status} ${x.reason}`]));
    expect((await conditions()).Degraded).toBe("True Saturated");
    await controller.updatePool("web", { maxPods: 3 });
    h.clock.advance(60);
    await agentsUp();
    await controller.reconcileAll();
    expect((await conditions()).Progressing).toBe("True ScalingUp");
    expect((await conditions()).Degraded).toBe("False Healthy");
  });
});
