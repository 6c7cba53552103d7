import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { approveTask, cancelTask, expireReservations, getTask, IdempotencyKeyReusedError, IllegalTransitionError, PayloadTooLargeError, PoolNotFoundError, reportTask, submitTask, TaskNotFoundError, TaskNotOnPodError } from "../../src/tasks/index.js";
import { ValidationError } from "../../src/errors.js";
import { backends } from "../support/databases.js";
import { openCore, seedPool, type CoreHarness } from "../support/core.js";

describe.each(backends)("task lifecycle on %s", (backend) => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore(backend, { watchPools: ["web"] });
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  const slotsOf = (pod: string) =>
    h.ctx.prisma.slot.findMany({ where: { pod: { name: pod } }, orderBy: { index: "asc" }, select: { index: true, state: true, taskId: true, reservedUntil: true } });
  const snapshot = async () => ({
    tasks: await h.ctx.prisma.task.findMany({ orderBy: { seq: "asc" } }),
    slots: await h.ctx.prisma.slot.findMany({ orderBy: [{ podId: "asc" }, { index: "asc" }] }),
  });

  it("3 tasks on a pool with one Ready pod of 3 slots run on that pod in 3 distinct slots", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 3);
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await submitTask(h.ctx, { pool: "web", type: "plan" }));
    expect(tasks.map((t) => t.status)).toEqual(["running", "running", "running"]);
    expect(new Set(tasks.map((t) => t.podName))).toEqual(new Set([pods[0]]));
    expect(tasks.map((t) => t.slotIndex).sort()).toEqual([0, 1, 2]);
    const slots = await slotsOf(pods[0]!);
    expect(slots.map((s) => s.state)).toEqual(["running", "running", "running"]);
    expect(new Set(slots.map((s) => s.taskId))).toEqual(new Set(tasks.map((t) => t.id)));
    expect(h.slotEvents.map((e) => [e.pod, e.index, e.state])).toEqual([
      [pods[0], 0, "running"],
      [pods[0], 1, "running"],
      [pods[0], 2, "running"],
    ]);
  });

  it("bin-packs: a new task goes to the Ready pod with the most busy slots", async () => {
    const { pods } = await seedPool(h.ctx, "web", 3, 3);
    const first = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const second = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(second.podName).toBe(first.podName);
    // Give another pod two busy slots by hand: it now has more busy slots than the first.
    const other = pods.find((p) => p !== first.podName)!;
    const t1 = await h.ctx.prisma.task.create({ data: { poolId: (await h.ctx.prisma.pool.findFirstOrThrow()).id, type: "x", status: "running", podName: other, slotIndex: 0 } });
    const t2 = await h.ctx.prisma.task.create({ data: { poolId: t1.poolId, type: "x", status: "running", podName: other, slotIndex: 1 } });
    await h.ctx.prisma.slot.updateMany({ where: { pod: { name: other }, index: 0 }, data: { state: "running", taskId: t1.id } });
    await h.ctx.prisma.slot.updateMany({ where: { pod: { name: other }, index: 1 }, data: { state: "running", taskId: t2.id } });
    const third = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(third.podName).toBe(first.podName);
    const fourth = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(fourth.podName).toBe(other);
  });

  it("with no free slot a task stays pending and is placed, in submission order, when a slot frees", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 1);
    const running = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const a = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const b = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect([running.status, a.status, b.status]).toEqual(["running", "pending", "pending"]);
    await reportTask(h.ctx, { taskId: running.id, pod: pods[0]!, status: "succeeded" });
    expect((await getTask(h.ctx, a.id)).status).toBe("running");
    expect((await getTask(h.ctx, b.id)).status).toBe("pending");
    const slots = await slotsOf(pods[0]!);
    expect(slots[0]).toMatchObject({ state: "running", taskId: a.id });
  });

  it("a pending task is placed as soon as a pod becomes Ready", async () => {
    const { pool } = await seedPool(h.ctx, "web", 0, 3);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(task.status).toBe("pending");
    await h.ctx.prisma.pod.create({ data: { name: "web-late", poolId: pool.id, phase: "Starting", slots: { create: [{ index: 0 }] } } });
    const { registerAgent } = await import("../../src/agents/index.js");
    await registerAgent(h.ctx, "web-late");
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "running", podName: "web-late", slotIndex: 0 });
  });

  it("plan_and_apply: apply_pending reserves the slot until now + TTL, approval applies on the same pod and slot", async () => {
    const { pods } = await seedPool(h.ctx, "web", 2, 3, { reservationTtlSeconds: 3600 });
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply", payload: { durationMs: 10 } });
    const pod = task.podName!;
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    const planned = await reportTask(h.ctx, { taskId: task.id, pod, status: "apply_pending", output: { plan: "2 to add" } });
    expect(planned.status).toBe("apply_pending");
    const reserved = (await slotsOf(pod)).find((s) => s.taskId === task.id)!;
    expect(reserved.state).toBe("reserved");
    expect(reserved.reservedUntil!.getTime()).toBe(h.clock.current.getTime() + 3600_000);

    const approved = await approveTask(h.ctx, task.id);
    expect(approved).toMatchObject({ status: "applying", podName: pod, slotIndex: task.slotIndex });
    expect((await slotsOf(pod)).find((s) => s.index === task.slotIndex)).toMatchObject({ state: "running", taskId: task.id, reservedUntil: null });
    const done = await reportTask(h.ctx, { taskId: task.id, pod, status: "succeeded", output: { result: "applied" } });
    expect(done.status).toBe("succeeded");
    expect(done.output).toEqual({ plan: "2 to add", result: "applied" });
    expect((await slotsOf(pod)).every((s) => s.state === "idle" && s.taskId === null)).toBe(true);
    expect(pods).toContain(pod);
    expect(h.slotEvents.filter((e) => e.taskId === task.id || e.state === "idle").map((e) => e.state)).toEqual(["running", "reserved", "running", "idle"]);
  });

  it("a reservation past its TTL is freed by the expiry pass (injected clock), the task expires", async () => {
    await seedPool(h.ctx, "web", 1, 1, { reservationTtlSeconds: 60 });
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "apply_pending" });
    h.clock.advance(59);
    expect(await expireReservations(h.ctx)).toEqual([]);
    expect((await getTask(h.ctx, task.id)).status).toBe("apply_pending");
    h.clock.advance(2);
    const expired = await expireReservations(h.ctx);
    expect(expired.map((e) => e.taskId)).toEqual([task.id]);
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "expired" });
    expect((await slotsOf(task.podName!))[0]).toMatchObject({ state: "idle", taskId: null });
    await expect(approveTask(h.ctx, task.id)).rejects.toBeInstanceOf(IllegalTransitionError);
    expect(await expireReservations(h.ctx)).toEqual([]);
  });

  it("a task that becomes running after the one-statement finish missed it is ended the same way, under its row lock", async () => {
    const { pods } = await seedPool(h.ctx, "web", 1, 3);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    await reportTask(h.ctx, { taskId: task.id, pod: pods[0]!, status: "apply_pending", output: { plan: "+1" } });
    await approveTask(h.ctx, task.id);
    // The race, made certain: the first attempt of berth_finish_task answers as if the task were not yet running.
    let missed = 0;
    const prisma = new Proxy(h.ctx.prisma, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== "$queryRawUnsafe") return typeof value === "function" ? value.bind(target) : value;
        return (query: string, ...args: unknown[]) => (query.includes("berth_finish_task") && missed++ === 0 ? Promise.resolve([]) : target.$queryRawUnsafe(query, ...args));
      },
    });
    const done = await reportTask({ ...h.ctx, prisma }, { taskId: task.id, pod: pods[0]!, status: "succeeded", output: { result: "applied" } });
    expect(missed).toBe(1);
    expect(done).toMatchObject({ status: "succeeded", output: { plan: "+1", result: "applied" } });
    expect((await slotsOf(pods[0]!)).every((s) => s.state === "idle" && s.taskId === null)).toBe(true);
    expect(await h.ctx.prisma.slotAssignment.count({ where: { taskId: task.id, releasedAt: null } })).toBe(0);
    expect(h.slotEvents.at(-1)).toMatchObject({ pod: pods[0], state: "idle", taskId: null });
  });

  it("transitions are idempotent: repeating a report, an approval or a cancel changes nothing", async () => {
    await seedPool(h.ctx, "web", 1, 2);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    const pod = task.podName!;
    await reportTask(h.ctx, { taskId: task.id, pod, status: "apply_pending" });
    await reportTask(h.ctx, { taskId: task.id, pod, status: "apply_pending" });
    await approveTask(h.ctx, task.id);
    // The agent acknowledges the apply once; saying so again is a repeat.
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    const before = await snapshot();
    await approveTask(h.ctx, task.id);
    await reportTask(h.ctx, { taskId: task.id, pod, status: "running" });
    expect(await snapshot()).toEqual(before);
    await reportTask(h.ctx, { taskId: task.id, pod, status: "succeeded" });
    const after = await snapshot();
    await reportTask(h.ctx, { taskId: task.id, pod, status: "succeeded" });
    expect(await snapshot()).toEqual(after);
    const other = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await cancelTask(h.ctx, other.id);
    const cancelled = await snapshot();
    await cancelTask(h.ctx, other.id);
    expect(await snapshot()).toEqual(cancelled);
  });

  it("cancelling a running task frees its slot; cancelling a pending one never places it", async () => {
    await seedPool(h.ctx, "web", 1, 1);
    const running = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const pending = await submitTask(h.ctx, { pool: "web", type: "plan" });
    await cancelTask(h.ctx, pending.id);
    await cancelTask(h.ctx, running.id);
    expect((await getTask(h.ctx, running.id)).status).toBe("cancelled");
    expect((await getTask(h.ctx, pending.id)).status).toBe("cancelled");
    expect((await slotsOf(running.podName!))[0]).toMatchObject({ state: "idle", taskId: null });
  });

  it("bad input and illegal moves are typed errors and change nothing", async () => {
    const { pods } = await seedPool(h.ctx, "web", 2, 1);
    const task = await submitTask(h.ctx, { pool: "web", type: "plan" });
    const otherPod = pods.find((p) => p !== task.podName)!;
    const before = await snapshot();

    await expect(submitTask(h.ctx, { pool: "nope", type: "plan" })).rejects.toBeInstanceOf(PoolNotFoundError);
    await expect(submitTask(h.ctx, { pool: "web", type: "" })).rejects.toBeInstanceOf(ValidationError);
    await expect(submitTask(h.ctx, { pool: "web", type: "plan", payload: { blob: "x".repeat(70_000) } })).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(getTask(h.ctx, "00000000-0000-0000-0000-000000000000")).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(getTask(h.ctx, "not-a-uuid")).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(approveTask(h.ctx, task.id)).rejects.toThrow(/cannot go from running to applying/);
    await expect(reportTask(h.ctx, { taskId: task.id, pod: otherPod, status: "succeeded" })).rejects.toBeInstanceOf(TaskNotOnPodError);
    await expect(reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "exploded" })).rejects.toBeInstanceOf(ValidationError);
    await expect(reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "succeeded", output: { x: "y".repeat(70_000) } })).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(await snapshot()).toEqual(before);

    await reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "failed", output: { error: "boom" } });
    expect(await getTask(h.ctx, task.id)).toMatchObject({ status: "failed", error: "boom" });
    await expect(reportTask(h.ctx, { taskId: task.id, pod: task.podName!, status: "succeeded" })).rejects.toBeInstanceOf(IllegalTransitionError);
    await expect(cancelTask(h.ctx, task.id)).rejects.toBeInstanceOf(IllegalTransitionError);
  });

  it("a retried submission with the same idempotency key returns the first task; nothing is created twice", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    await seedPool(h.ctx, "batch", 1, 3);
    const first = await submitTask(h.ctx, { pool: "web", type: "plan", payload: { a: 1, b: [1, { c: 2 }] }, idempotencyKey: "order-42" });
    // Equal as JSON values (keys in another order): the same submission.
    const again = await submitTask(h.ctx, { pool: "web", type: "plan", payload: { b: [1, { c: 2 }], a: 1 }, idempotencyKey: "order-42" });
    expect(again.id).toBe(first.id);
    // The same key in another pool is another task.
    const elsewhere = await submitTask(h.ctx, { pool: "batch", type: "plan", payload: { a: 1, b: [1, { c: 2 }] }, idempotencyKey: "order-42" });
    expect(elsewhere.id).not.toBe(first.id);
    expect(await h.ctx.prisma.task.count()).toBe(2);

    const before = await snapshot();
    const reused = await submitTask(h.ctx, { pool: "web", type: "plan", payload: { a: 2 }, idempotencyKey: "order-42" }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(reused).toMatchObject({ kind: "conflict", taskId: first.id });
    await expect(submitTask(h.ctx, { pool: "web", type: "apply", payload: { a: 1, b: [1, { c: 2 }] }, idempotencyKey: "order-42" })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    for (const bad of ["", "has space", "x".repeat(129), "naïve"]) {
      await expect(submitTask(h.ctx, { pool: "web", type: "plan", idempotencyKey: bad })).rejects.toMatchObject({ kind: "validation", field: "idempotencyKey" });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("concurrent submissions with one idempotency key create one task and all get it", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    const results = await Promise.all(Array.from({ length: 12 }, () => submitTask(h.ctx, { pool: "web", type: "plan", payload: { n: 1 }, idempotencyKey: "burst" })));
    expect(new Set(results.map((t) => t.id)).size).toBe(1);
    expect(await h.ctx.prisma.task.count()).toBe(1);
    expect((await h.ctx.prisma.slot.findMany({ where: { state: "running" } })).length).toBe(1);
  });
});
