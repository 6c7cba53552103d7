import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeat, registerAgent } from "../../src/agents/index.js";
import { PoolController } from "../../src/pools/index.js";
import { approveTask, cancelTask, reportTask, submitTask } from "../../src/tasks/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, type CoreHarness } from "../support/core.js";

/** A small seeded generator, so a failing run can be replayed from its seed. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEPS = 120;
const ACTIVE = ["running", "apply_pending", "applying"] as const;

describe.each(backends.includes("postgres") ? ["postgres" as const] : backends)("randomised soak on %s: no pod with a running or reserved slot is ever deleted", (backend) => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore(backend);
  });
  afterAll(() => h.close());

  it.each([1, 2])("seed %i", async (seed) => {
    await h.reset();
    const rand = mulberry32(seed);
    const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
    const runtime = new FakeRuntime();
    const violations: string[] = [];
    runtime.beforeDelete = async (pod) => {
      const busyTasks = await h.ctx.prisma.task.count({ where: { podName: pod, status: { in: [...ACTIVE] } } });
      const busySlots = await h.ctx.prisma.slot.count({ where: { pod: { name: pod }, state: { not: "idle" } } });
      const open = await h.ctx.prisma.slotAssignment.count({ where: { podName: pod, releasedAt: null } });
      if (busyTasks + busySlots + open > 0) violations.push(`deleted ${pod} with ${busyTasks} active task(s), ${busySlots} busy slot(s)`);
    };
    const controller = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
    await controller.createPool({
      name: "soak",
      minPods: 1,
      maxPods: 6,
      slotsPerPod: 3,
      maxStep: 2,
      scaleUpCooldownSeconds: 10,
      scaleDownCooldownSeconds: 20,
      stabilizationWindowSeconds: 10,
      newPodGraceSeconds: 5,
      reservationTtlSeconds: 120,
      lostPodPolicy: seed % 2 ? "requeue" : "fail",
    });
    const silenced = new Set<string>();
    let deletes = 0;

    for (let step = 0; step < STEPS; step++) {
      const roll = rand();
      const tasks = await h.ctx.prisma.task.findMany({ where: { status: { in: [...ACTIVE] } } });
      if (roll < 0.3) {
        for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) await submitTask(h.ctx, { pool: "soak", type: rand() < 0.4 ? "plan_and_apply" : "plan" });
      } else if (roll < 0.55) {
        const t = pick(tasks.filter((x) => x.status === "running" || x.status === "applying"));
        if (t) {
          const next = t.type === "plan_and_apply" && t.status === "running" ? "apply_pending" : rand() < 0.85 ? "succeeded" : "failed";
          await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: next });
        }
      } else if (roll < 0.65) {
        const t = pick(tasks.filter((x) => x.status === "apply_pending"));
        if (t) await approveTask(h.ctx, t.id);
      } else if (roll < 0.7) {
        const t = pick(tasks);
        if (t) await cancelTask(h.ctx, t.id);
      } else if (roll < 0.75) {
        const p = pick(await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" } }));
        if (p) silenced.add(p.name);
      } else if (roll < 0.82) {
        const pool = await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "soak" } });
        const target = pool.minPods + Math.floor(rand() * (pool.maxPods - pool.minPods + 1));
        const result = await controller.scalePool("soak", target);
        expect(result.applied + result.blockedPods).toBeGreaterThanOrEqual(0);
      } else if (roll < 0.86) {
        const min = Math.floor(rand() * 3);
        await controller.updatePool("soak", { minPods: min, maxPods: min + 1 + Math.floor(rand() * 5) });
      }
      h.clock.advance(1 + Math.floor(rand() * 15));
      await controller.reconcileAll();
      for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: { in: ["Starting", "Ready", "Draining"] } } })) {
        if (silenced.has(p.name)) continue;
        if (p.phase === "Starting") await registerAgent(h.ctx, p.name);
        else await heartbeat(h.ctx, p.name);
      }
      deletes = runtime.calls.filter((c) => c.op === "delete").length;

      // Every active task holds exactly the slot its status says, on a pod that still exists.
      const active = await h.ctx.prisma.task.findMany({ where: { status: { in: [...ACTIVE] } }, include: { slot: { include: { pod: true } } } });
      for (const t of active) {
        expect(t.slot, `task ${t.id} (${t.status}) at step ${step}, seed ${seed}`).not.toBeNull();
        expect(t.slot!.state).toBe(t.status === "apply_pending" ? "reserved" : "running");
        expect(t.slot!.pod.name).toBe(t.podName);
        expect(["Ready", "Draining"]).toContain(t.slot!.pod.phase);
      }
      expect(await h.ctx.prisma.slot.count({ where: { state: { not: "idle" }, taskId: null } })).toBe(0);
      expect(violations, `seed ${seed}, step ${step}`).toEqual([]);
    }
    expect(deletes).toBeGreaterThan(0);
    expect(await h.ctx.prisma.scalingEvent.count({ where: { kind: "scale_up" } })).toBeGreaterThan(0);
  }, 180_000);
});
