import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { PoolController, PoolSpecError, poolSummary } from "../../src/pools/index.js";
import { unblockKeys } from "../../src/tasks/concurrency.js";
import { approveTask, cancelTask, expireReservations, getTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, seedPool, type CoreHarness } from "../support/core.js";

describe.each(backends)("concurrency keys, reserved capacity and tasks per pod on %s", (backend) => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  const snapshot = async () => ({
    tasks: await h.ctx.prisma.task.findMany({ orderBy: { seq: "asc" } }),
    slots: await h.ctx.prisma.slot.findMany({ orderBy: [{ podId: "asc" }, { index: "asc" }] }),
    pools: await h.ctx.prisma.pool.findMany({ orderBy: { name: "asc" } }),
  });
  const finish = async (id: string) => {
    const t = await getTask(h.ctx, id);
    return reportTask(h.ctx, { taskId: id, pod: t.podName, status: "succeeded" });
  };
  const controller = () => new PoolController(h.ctx, { runtimes: { local: new FakeRuntime() }, heartbeatTimeoutSeconds: 30, startedAt: new Date(0) });

  it("a bad concurrency key or supersede without a key is a typed error naming the field, and stores nothing", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "ws-1" });
    const before = await snapshot();
    for (const bad of ["", "has space", "x".repeat(129), "ünïcode", "tab\there"]) {
      const error = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: bad }).catch((e: unknown) => e);
      expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe("concurrencyKey");
    }
    const error = await submitTask(h.ctx, { pool: "web", type: "plan", supersede: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("supersede");
    expect(await snapshot()).toEqual(before);
    // The longest key is accepted.
    expect((await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "k".repeat(128) })).status).toBe("running");
  });

  it("a bad maxReservedFraction or maxTasksPerPod is a typed error naming the field, and stores nothing", async () => {
    const pools = controller();
    await pools.createPool({ name: "web" });
    const before = await snapshot();
    for (const bad of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const attempt of [pools.createPool({ name: "other", maxReservedFraction: bad }), pools.updatePool("web", { maxReservedFraction: bad })]) {
        const error = await attempt.catch((e: unknown) => e);
        expect(error, String(bad)).toBeInstanceOf(PoolSpecError);
        expect((error as PoolSpecError).field).toBe("maxReservedFraction");
      }
    }
    for (const bad of [0, -1, 1.5]) {
      const error = await pools.updatePool("web", { maxTasksPerPod: bad }).catch((e: unknown) => e);
      expect(error, String(bad)).toBeInstanceOf(PoolSpecError);
      expect((error as PoolSpecError).field).toBe("maxTasksPerPod");
    }
    expect(await snapshot()).toEqual(before);
    const updated = await pools.updatePool("web", { maxReservedFraction: 0.5, maxTasksPerPod: 1 });
    expect(updated).toMatchObject({ maxReservedFraction: 0.5, maxTasksPerPod: 1 });
    expect(await pools.updatePool("web", { maxTasksPerPod: null })).toMatchObject({ maxTasksPerPod: null, maxReservedFraction: 0.5 });
  });

  it("one active task per key, the rest wait in order; a busy key holds up no other key", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    const a1 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" });
    const a2 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" });
    const a3 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" });
    const b1 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "b" });
    const free = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect([a1, a2, a3, b1, free].map((t) => [t.status, t.keyBlocked])).toEqual([
      ["running", false],
      ["pending", true],
      ["pending", true],
      ["running", false],
      ["running", false],
    ]);
    expect((await poolSummary(h.ctx, "web")).pendingByReason).toEqual({ noSlot: 0, keyBlocked: 2, reservedCap: 0 });
    await finish(a1.id);
    expect((await getTask(h.ctx, a2.id)).status).toBe("running");
    expect((await getTask(h.ctx, a3.id)).status).toBe("pending");
    await finish(a2.id);
    expect((await getTask(h.ctx, a3.id)).status).toBe("running");
  });

  it("the database refuses a second active task of a key, whatever writes it", async () => {
    const { pool } = await seedPool(h.ctx, "web", 1, 3);
    await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" });
    await expect(
      h.ctx.prisma.task.create({ data: { poolId: pool.id, type: "plan", concurrencyKey: "a", status: "running" } }),
    ).rejects.toThrow(/Unique constraint|unique/i);
  });

  it("a plan waiting for approval holds its key; approval keeps it until the apply ends, cancel and expiry release it", async () => {
    await seedPool(h.ctx, "web", 1, 3, { reservationTtlSeconds: 60 });
    const plan = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply", concurrencyKey: "ws" });
    const next = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply", concurrencyKey: "ws" });
    await reportTask(h.ctx, { taskId: plan.id, pod: plan.podName, status: "apply_pending" });
    expect((await getTask(h.ctx, next.id)).status).toBe("pending");
    await approveTask(h.ctx, plan.id);
    expect((await getTask(h.ctx, next.id)).status).toBe("pending");
    await finish(plan.id);
    expect((await getTask(h.ctx, next.id)).status).toBe("running");

    // Rejected (cancelled while waiting for approval): the key moves on.
    const third = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply", concurrencyKey: "ws" });
    await reportTask(h.ctx, { taskId: next.id, pod: (await getTask(h.ctx, next.id)).podName, status: "apply_pending" });
    expect((await getTask(h.ctx, third.id)).status).toBe("pending");
    await cancelTask(h.ctx, next.id);
    expect((await getTask(h.ctx, third.id)).status).toBe("running");

    // Expired: the same.
    const fourth = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "ws" });
    await reportTask(h.ctx, { taskId: third.id, pod: (await getTask(h.ctx, third.id)).podName, status: "apply_pending" });
    h.clock.advance(61);
    // The pod's agent is still answering.
    await h.ctx.prisma.pod.updateMany({ data: { lastHeartbeatAt: h.ctx.now() } });
    await expireReservations(h.ctx);
    expect((await getTask(h.ctx, third.id)).status).toBe("expired");
    expect((await getTask(h.ctx, fourth.id)).status).toBe("running");
  });

  it("supersede cancels the key's pending tasks (reason superseded) and queues the new one behind the running one", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    const running = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "drift" });
    const old1 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "drift" });
    const old2 = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "drift" });
    const other = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "elsewhere" });
    const latest = await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "drift", supersede: true });
    for (const old of [old1, old2]) expect(await getTask(h.ctx, old.id)).toMatchObject({ status: "cancelled", failureReason: "superseded", startedAt: null });
    expect((await getTask(h.ctx, running.id)).status).toBe("running");
    expect((await getTask(h.ctx, other.id)).status).toBe("running");
    expect(latest).toMatchObject({ status: "pending", keyBlocked: true });
    await finish(running.id);
    expect((await getTask(h.ctx, latest.id)).status).toBe("running");
  });

  it("the reconcile repair unblocks a key left with waiting tasks and no holder, oldest first, and nothing else", async () => {
    const { pool } = await seedPool(h.ctx, "web", 0, 3);
    const a = [await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" }), await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "a" })];
    const b = [await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "b" }), await submitTask(h.ctx, { pool: "web", type: "plan", concurrencyKey: "b" })];
    expect(await unblockKeys(h.ctx, pool.id)).toBe(0);
    // As if the unblocking after a's first task met the second locked by a transaction that left it.
    await h.ctx.prisma.$executeRawUnsafe(`ALTER TABLE "Task" DISABLE TRIGGER "Task_key_released"`);
    await cancelTask(h.ctx, a[0]!.id);
    await h.ctx.prisma.$executeRawUnsafe(`ALTER TABLE "Task" ENABLE TRIGGER "Task_key_released"`);
    expect((await getTask(h.ctx, a[1]!.id)).keyBlocked).toBe(true);
    expect(await unblockKeys(h.ctx, pool.id)).toBe(1);
    expect((await getTask(h.ctx, a[1]!.id)).keyBlocked).toBe(false);
    expect([(await getTask(h.ctx, b[0]!.id)).keyBlocked, (await getTask(h.ctx, b[1]!.id)).keyBlocked]).toEqual([false, true]);
  });

  it("maxTasksPerPod 1: a pod of 3 slots runs exactly one task, ever", async () => {
    const { pods } = await seedPool(h.ctx, "web", 2, 3, { maxTasksPerPod: 1 });
    const [t1, t2, t3] = [await submitTask(h.ctx, { pool: "web", type: "plan" }), await submitTask(h.ctx, { pool: "web", type: "plan" }), await submitTask(h.ctx, { pool: "web", type: "plan" })];
    expect([t1.status, t2.status, t3.status]).toEqual(["running", "running", "pending"]);
    expect(new Set([t1.podName, t2.podName])).toEqual(new Set(pods));
    await finish(t1.id);
    // The freed slot is on a pod that has had its task.
    expect((await getTask(h.ctx, t3.id)).status).toBe("pending");
    expect((await h.ctx.prisma.pod.findMany({ orderBy: { name: "asc" } })).map((p) => p.tasksStarted)).toEqual([1, 1]);
  });

  it("maxReservedFraction: beyond the cap new plans wait, other work still starts; plans go to pods holding reservations", async () => {
    const { pods } = await seedPool(h.ctx, "web", 2, 4, { maxReservedFraction: 0.25 });
    // Pod 0 is fuller (bin-packing prefers it); pod 1 gets a reservation.
    const fill = [await submitTask(h.ctx, { pool: "web", type: "plan" }), await submitTask(h.ctx, { pool: "web", type: "plan" })];
    expect(fill.map((t) => t.podName)).toEqual([pods[0], pods[0]]);
    const { pool } = { pool: await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "web" } }) };
    const slot = await h.ctx.prisma.slot.findFirstOrThrow({ where: { pod: { name: pods[1] }, index: 0 } });
    const held = await h.ctx.prisma.task.create({ data: { poolId: pool.id, type: "plan_and_apply", status: "running", podName: pods[1], slotIndex: 0, startedAt: h.ctx.now() } });
    await h.ctx.prisma.$executeRawUnsafe(`UPDATE "Slot" SET state = 'running', "taskId" = $1::uuid WHERE id = $2::uuid`, held.id, slot.id);
    await h.ctx.prisma.$executeRawUnsafe(`UPDATE "Pod" SET "busySlots" = 1 WHERE name = $1`, pods[1]);
    await reportTask(h.ctx, { taskId: held.id, pod: pods[1], status: "apply_pending" });
    expect((await h.ctx.prisma.pod.findFirstOrThrow({ where: { name: pods[1] } })).reservedSlots).toBe(1);

    // 8 slots × 0.25 = 2 may be reserved (or planning): one more plan starts, on the pod with the reservation.
    const plan = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    expect(plan).toMatchObject({ status: "running", podName: pods[1] });
    const capped = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    expect(capped.status).toBe("pending");
    const other = await submitTask(h.ctx, { pool: "web", type: "plan" });
    expect(other.status).toBe("running");
    expect((await poolSummary(h.ctx, "web")).pendingByReason).toEqual({ noSlot: 0, keyBlocked: 0, reservedCap: 1 });
    // The plan ends without reserving: under the cap again, the waiting plan starts.
    await finish(plan.id);
    expect((await getTask(h.ctx, capped.id)).status).toBe("running");
  });

  it("reservedSlotSeconds adds up ended reservations and the open ones", async () => {
    await seedPool(h.ctx, "web", 1, 3);
    const plan = await submitTask(h.ctx, { pool: "web", type: "plan_and_apply" });
    await reportTask(h.ctx, { taskId: plan.id, pod: plan.podName, status: "apply_pending" });
    h.clock.advance(30);
    expect((await poolSummary(h.ctx, "web")).reservedSlotSeconds).toBeCloseTo(30, 1);
    await approveTask(h.ctx, plan.id);
    h.clock.advance(100);
    const summary = await poolSummary(h.ctx, "web");
    expect(summary.reservedSlotSeconds).toBeCloseTo(30, 1);
    expect(summary.pool.reservedSlotSeconds).toBeCloseTo(30, 1);
    expect((await h.ctx.prisma.pod.findFirstOrThrow()).busySlots).toBe(1);
  });
});
