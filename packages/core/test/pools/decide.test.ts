import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideScaling, isRemovable, livePods, planManualScale, runningUtilization, selectPodsToRemove, utilization, type Phase, type PodSnapshot, type PoolSnapshot, type ScalingSpec, type SlotStateName } from "../../src/pools/index.js";

const now = new Date("2026-03-01T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const spec: ScalingSpec = {
  slotsPerPod: 3,
  minPods: 1,
  maxPods: 5,
  scaleUpAt: 0.8,
  scaleDownAt: 0.2,
  scaleUpCooldownSeconds: 30,
  scaleDownCooldownSeconds: 120,
  stabilizationWindowSeconds: 60,
  maxStep: 2,
  scaleUpMaxStep: null,
  newPodGraceSeconds: 60,
  autoscale: true,
};
const pod = (name: string, slots: SlotStateName[], phase: Phase = "Ready", ageSeconds = 3600): PodSnapshot => ({
  name,
  phase,
  createdAt: ago(ageSeconds),
  readyAt: phase === "Ready" ? ago(ageSeconds) : null,
  slots,
});
const snap = (pods: PodSnapshot[], extra: Partial<PoolSnapshot> = {}): PoolSnapshot => ({
  spec,
  pods,
  pendingTasks: 0,
  lastScaleUpAt: null,
  lastScaleDownAt: null,
  lowSince: ago(3600),
  ...extra,
});
const I = "idle" as const, R = "running" as const, V = "reserved" as const;

describe("utilisation", () => {
  it("is (running + reserved) / slots on Ready pods only", () => {
    expect(utilization([pod("a", [R, V, I]), pod("b", [I, I, I]), pod("c", [R, R, R], "Draining")])).toBeCloseTo(2 / 6);
    expect(utilization([pod("a", [I], "Starting")])).toBe(0);
    expect(utilization([])).toBe(0);
  });
});

describe("scale-down selection", () => {
  it("never picks a pod with a running or reserved slot, nor one within newPodGrace", () => {
    const pods = [pod("busy", [R, I, I]), pod("held", [I, V, I]), pod("young", [I, I, I], "Ready", 10), pod("old", [I, I, I])];
    expect(selectPodsToRemove(pods, 4, now, 60)).toEqual(["old"]);
  });

  it("prefers pods that never became Ready, then the youngest", () => {
    const pods = [pod("old", [I], "Ready", 5000), pod("newer", [I], "Ready", 1000), pod("stuck", [I], "Starting", 3000)];
    expect(selectPodsToRemove(pods, 3, now, 60)).toEqual(["stuck", "newer", "old"]);
  });

  it("draining, terminating and lost pods are not candidates", () => {
    for (const phase of ["Draining", "Terminating", "Lost"] as Phase[]) expect(isRemovable(pod("x", [I], phase), now, 0)).toBe(false);
  });
});

describe("scaling decisions", () => {
  it("ensures minPods at once", () => {
    expect(decideScaling(snap([]), now)).toMatchObject({ kind: "ensure_min", create: 1, toPods: 1 });
  });

  it("cold start: a pool with zero pods and a pending task scales up at once, cooldown or not", () => {
    const s = { ...snap([], { pendingTasks: 4, lastScaleUpAt: ago(1) }), spec: { ...spec, minPods: 0 } };
    expect(decideScaling(s, now)).toMatchObject({ kind: "scale_up", create: 2 });
  });

  it("scales up above scaleUpAt, at most scaleUpMaxStep when set, never above maxPods", () => {
    const busy = [pod("a", [R, R, R]), pod("b", [R, R, V])];
    // 5 running slots need 5 / (3 × 0.8) pods and the reserved one a third of a pod: 3 pods.
    expect(decideScaling(snap(busy), now)).toMatchObject({ kind: "scale_up", create: 1 });
    const burst = { ...snap(busy), spec: { ...spec, scaleUpAt: 0.4, scaleDownAt: 0.1 } };
    expect(decideScaling(burst, now)).toMatchObject({ kind: "scale_up", create: 3 });
    expect(decideScaling({ ...burst, spec: { ...burst.spec, scaleUpMaxStep: 2 } }, now)).toMatchObject({ kind: "scale_up", create: 2 });
    const four = [...busy, pod("c", [R, R, R]), pod("d", [R, R, R])];
    expect(decideScaling(snap(four), now)).toMatchObject({ kind: "scale_up", create: 1, toPods: 5 });
    const five = [...four, pod("e", [R, R, R])];
    expect(decideScaling(snap(five), now).kind).toBe("none");
  });

  it("respects the scale-up cooldown", () => {
    const busy = [pod("a", [R, R, R]), pod("b", [R, R, R])];
    expect(decideScaling(snap(busy, { lastScaleUpAt: ago(10) }), now).kind).toBe("none");
    expect(decideScaling(snap(busy, { lastScaleUpAt: ago(31) }), now).kind).toBe("scale_up");
  });

  it("pending tasks without a free slot add pods; pods already starting count as coming capacity", () => {
    const full = [pod("a", [R, R, R])];
    expect(decideScaling(snap(full, { pendingTasks: 4 }), now)).toMatchObject({ kind: "scale_up", create: 2 });
    const withStarting = [...full, pod("b", [I, I, I], "Starting", 5)];
    expect(decideScaling(snap(withStarting, { pendingTasks: 3 }), now).kind).toBe("none");
  });

  it("scales down below scaleDownAt only idle pods, keeping busy ones, after stabilisation and cooldown", () => {
    const pods = [pod("a", [R, I, I]), pod("b", [I, I, I]), pod("c", [I, I, I]), pod("d", [I, I, I]), pod("e", [I, I, I])];
    const d = decideScaling(snap(pods), now);
    expect(d.kind).toBe("scale_down");
    expect(d.remove).toHaveLength(2);
    expect(d.remove).not.toContain("a");
    expect(decideScaling(snap(pods, { lowSince: ago(30) }), now).kind).toBe("none");
    expect(decideScaling(snap(pods, { lastScaleDownAt: ago(60) }), now).kind).toBe("none");
    expect(decideScaling(snap(pods, { lowSince: null }), now).kind).toBe("none");
  });

  it("records scale_down_blocked with the reason when every candidate is busy or young", () => {
    const pods = [pod("a", [V, I, I, I, I, I]), pod("b", [R, I, I, I, I, I]), pod("c", [I, I, I, I, I, I], "Ready", 5)];
    const d = decideScaling({ ...snap(pods), spec: { ...spec, slotsPerPod: 6, minPods: 0 } }, now);
    expect(d.kind).toBe("scale_down_blocked");
    expect(d.reason).toContain("2 pod(s) have running or reserved slots");
    expect(d.reason).toContain("within newPodGrace");
  });

  it("lowering maxPods removes idle pods even with autoscale off, never busy ones", () => {
    const pods = [pod("a", [R, R, R]), pod("b", [I, I, I]), pod("c", [V, I, I])];
    const d = decideScaling({ ...snap(pods), spec: { ...spec, maxPods: 1, autoscale: false } }, now);
    expect(d).toMatchObject({ kind: "scale_down", remove: ["b"] });
  });

  it("manual scale removes only idle pods and counts the busy ones it kept", () => {
    const pods = [pod("a", [R, I, I]), pod("b", [I, I, I]), pod("c", [I, V, I])];
    expect(planManualScale(pods, 1, now)).toEqual({ create: 0, remove: ["b"], blockedPods: 1 });
    expect(planManualScale(pods, 5, now)).toEqual({ create: 2, remove: [], blockedPods: 0 });
  });
});

const slotArb = fc.constantFrom<SlotStateName>("idle", "idle", "running", "reserved");
const phaseArb = fc.constantFrom<Phase>("Pending", "Starting", "Ready", "Ready", "Ready", "Draining", "Terminating", "Lost");
describe("burst scale-up", () => {
  const empty = { ...spec, minPods: 0, maxPods: 10 };

  it("a burst of 30 tasks on 3-slot pods reaches 10 pods in one decision, from zero", () => {
    expect(decideScaling({ ...snap([], { pendingTasks: 30 }), spec: empty }, now)).toMatchObject({ kind: "scale_up", create: 10, toPods: 10 });
  });

  it("with pods up and busy, adds what the queue needs in one step, inside the scale-up cooldown too", () => {
    const full = [pod("a", [R, R, R]), pod("b", [R, R, R])];
    const d = decideScaling({ ...snap(full, { pendingTasks: 21, lastScaleUpAt: ago(1) }), spec: empty }, now);
    expect(d).toMatchObject({ kind: "scale_up", create: 7, toPods: 9 });
  });

  it("is bounded by maxPods and by scaleUpMaxStep when set", () => {
    expect(decideScaling({ ...snap([], { pendingTasks: 300 }), spec: empty }, now)).toMatchObject({ create: 10 });
    expect(decideScaling({ ...snap([], { pendingTasks: 30 }), spec: { ...empty, scaleUpMaxStep: 4 } }, now)).toMatchObject({ create: 4 });
  });

  it("scale-down stays stepwise: at most maxStep pods per pass", () => {
    const idle = Array.from({ length: 8 }, (_, i) => pod(`p${i}`, [I, I, I]));
    expect(decideScaling({ ...snap(idle), spec: empty }, now).remove).toHaveLength(2);
  });
});

describe("reserved slots, counted apart from running ones", () => {
  const wide = { ...spec, minPods: 0, maxPods: 50 };
  /** 100 plans waiting for approval, packed on 34 pods of 3 slots (the last pod has 2 idle slots). */
  const approvals = () => Array.from({ length: 34 }, (_, i) => pod(`p${String(i).padStart(2, "0")}`, i < 33 ? [V, V, V] : [V, I, I]));

  it("100 pending approvals on 3-slot pods hold 34 pods: reservations add no headroom pods and remove none", () => {
    const pods = approvals();
    for (const lowSince of [null, ago(3600)]) {
      const d = decideScaling({ ...snap(pods, { lowSince }), spec: wide }, now);
      expect(d.create).toBe(0);
      expect(d.remove).toEqual([]);
    }
  });

  it("new work beside them still gets pods, up to maxPods", () => {
    const d = decideScaling({ ...snap(approvals(), { pendingTasks: 30 }), spec: wide }, now);
    // 100 reserved + 30 waiting need ceil(130 / 3) = 44 pods.
    expect(d).toMatchObject({ kind: "scale_up", create: 10, toPods: 44 });
    expect(decideScaling({ ...snap(approvals(), { pendingTasks: 100 }), spec: wide }, now)).toMatchObject({ create: 16, toPods: 50 });
  });

  it("running utilisation leaves reserved slots out of both sides", () => {
    expect(runningUtilization([pod("a", [R, V, I]), pod("b", [V, V, I])])).toBeCloseTo(1 / 3);
    expect(runningUtilization([pod("a", [V, V, V])])).toBe(0);
  });
});

describe("drained pods and capacity windows", () => {
  it("a draining (recycled) pod counts against maxPods but not as serving: minPods brings a replacement", () => {
    const pods = [pod("old", [R, I, I], "Draining"), pod("b", [I, I, I])];
    expect(decideScaling({ ...snap(pods), spec: { ...spec, minPods: 2, maxPods: 3 } }, now)).toMatchObject({ kind: "ensure_min", create: 1 });
    expect(decideScaling({ ...snap(pods), spec: { ...spec, minPods: 2, maxPods: 2 } }, now).create).toBe(0);
  });

  it("blockScaleDown keeps idle pods through low utilisation", () => {
    const pods = [pod("a", [I, I, I]), pod("b", [I, I, I]), pod("c", [I, I, I])];
    expect(decideScaling(snap(pods), now).kind).toBe("scale_down");
    expect(decideScaling(snap(pods, { blockScaleDown: true }), now)).toMatchObject({ kind: "none", reason: "a capacity window blocks scale-down" });
  });
});

const specArb = fc
  .record({
    slotsPerPod: fc.integer({ min: 1, max: 8 }),
    minPods: fc.integer({ min: 0, max: 4 }),
    extra: fc.integer({ min: 0, max: 6 }),
    down: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    up: fc.double({ min: 0.51, max: 1, noNaN: true }),
    upCool: fc.integer({ min: 0, max: 300 }),
    downCool: fc.integer({ min: 0, max: 300 }),
    window: fc.integer({ min: 0, max: 300 }),
    maxStep: fc.integer({ min: 1, max: 4 }),
    upStep: fc.option(fc.integer({ min: 1, max: 4 })),
    grace: fc.integer({ min: 0, max: 300 }),
    autoscale: fc.boolean(),
  })
  .map(
    (r): ScalingSpec => ({
      slotsPerPod: r.slotsPerPod,
      minPods: r.minPods,
      maxPods: r.minPods + r.extra,
      scaleUpAt: r.up,
      scaleDownAt: r.down,
      scaleUpCooldownSeconds: r.upCool,
      scaleDownCooldownSeconds: r.downCool,
      stabilizationWindowSeconds: r.window,
      maxStep: r.maxStep,
      scaleUpMaxStep: r.upStep,
      newPodGraceSeconds: r.grace,
      autoscale: r.autoscale,
    }),
  );
const snapshotArb = specArb.chain((s) =>
  fc.record({
    spec: fc.constant(s),
    pods: fc.array(
      fc.record({
        phase: phaseArb,
        age: fc.integer({ min: 0, max: 1000 }),
        slots: fc.array(slotArb, { minLength: s.slotsPerPod, maxLength: s.slotsPerPod }),
      }),
      { maxLength: 10 },
    ),
    pendingTasks: fc.integer({ min: 0, max: 30 }),
    lastUp: fc.option(fc.integer({ min: 0, max: 600 })),
    lastDown: fc.option(fc.integer({ min: 0, max: 600 })),
    low: fc.option(fc.integer({ min: 0, max: 600 })),
  }),
);

describe("scaling decisions, for any pool, slot states and clock (property-based)", () => {
  const build = (r: fc.Arbitrary<unknown> extends never ? never : Parameters<Parameters<typeof snapshotArb.map>[0]>[0]): PoolSnapshot => ({
    spec: r.spec,
    pods: r.pods.map((p, i) => ({
      name: `p${i}`,
      phase: p.phase,
      createdAt: ago(p.age),
      readyAt: p.phase === "Ready" || p.phase === "Draining" ? ago(p.age) : null,
      slots: p.slots,
    })),
    pendingTasks: r.pendingTasks,
    lastScaleUpAt: r.lastUp === null ? null : ago(r.lastUp),
    lastScaleDownAt: r.lastDown === null ? null : ago(r.lastDown),
    lowSince: r.low === null ? null : ago(r.low),
  });

  it("never removes a pod with a running or reserved slot, nor one within newPodGrace (unless above maxPods)", () => {
    fc.assert(
      fc.property(snapshotArb, (r) => {
        const s = build(r);
        const d = decideScaling(s, now);
        const above = livePods(s.pods).length > s.spec.maxPods;
        for (const name of d.remove) {
          const p = s.pods.find((x) => x.name === name)!;
          expect(p.slots.every((x) => x === "idle")).toBe(true);
          expect(["Ready", "Pending", "Starting"]).toContain(p.phase);
          if (!above) expect(isRemovable(p, now, s.spec.newPodGraceSeconds)).toBe(true);
        }
        expect(new Set(d.remove).size).toBe(d.remove.length);
      }),
      { numRuns: 3000 },
    );
  });

  it("moves toward [minPods, maxPods], up at most scaleUpMaxStep and down at most maxStep per pass, never both adds and removes", () => {
    fc.assert(
      fc.property(snapshotArb, (r) => {
        const s = build(r);
        const d = decideScaling(s, now);
        const live = livePods(s.pods);
        const current = live.length;
        const serving = live.filter((p) => p.phase !== "Draining").length;
        expect(d.create === 0 || d.remove.length === 0).toBe(true);
        expect(d.toPods).toBe(current + d.create - d.remove.length);
        if (d.kind === "ensure_min") expect(d.create).toBe(Math.min(s.spec.minPods - serving, s.spec.maxPods - current));
        else {
          expect(d.create).toBeLessThanOrEqual(s.spec.scaleUpMaxStep ?? Number.POSITIVE_INFINITY);
          expect(d.remove.length).toBeLessThanOrEqual(s.spec.maxStep);
        }
        if (d.create > 0) expect(d.toPods).toBeLessThanOrEqual(s.spec.maxPods);
        if (d.remove.length > 0) expect(d.toPods).toBeGreaterThanOrEqual(Math.min(current, s.spec.minPods));
      }),
      { numRuns: 3000 },
    );
  });

  it("respects cooldowns: inside the scale-up cooldown only pending work and minPods add pods", () => {
    fc.assert(
      fc.property(snapshotArb, (r) => {
        const s = build(r);
        const d = decideScaling(s, now);
        const current = livePods(s.pods).length;
        const inUpCooldown = s.lastScaleUpAt !== null && now.getTime() - s.lastScaleUpAt.getTime() < s.spec.scaleUpCooldownSeconds * 1000;
        if (d.kind === "scale_up" && inUpCooldown) expect(s.pendingTasks).toBeGreaterThan(0);
        const inDownCooldown = s.lastScaleDownAt !== null && now.getTime() - s.lastScaleDownAt.getTime() < s.spec.scaleDownCooldownSeconds * 1000;
        if (d.kind === "scale_down" && inDownCooldown) expect(current).toBeGreaterThan(s.spec.maxPods);
      }),
      { numRuns: 3000 },
    );
  });

  it("a scale-up for pending work never adds more pods than the busy slots and the queue fill, beyond minPods", () => {
    fc.assert(
      fc.property(snapshotArb, (generated) => {
        // Work is placed on Ready pods only: a pod still starting has idle slots.
        const r = { ...generated, pods: generated.pods.map((p) => (p.phase === "Pending" || p.phase === "Starting" ? { ...p, slots: p.slots.map(() => "idle" as const) } : p)) };
        const s = build(r);
        const d = decideScaling(s, now);
        // Headroom scale-ups (running utilisation above scaleUpAt) add pods beyond the queue on purpose.
        if (d.kind !== "scale_up" || s.pendingTasks === 0 || /utilisation/.test(d.reason)) return;
        const serving = livePods(s.pods).filter((p) => p.phase !== "Draining");
        const busy = serving.flatMap((p) => p.slots).filter((x) => x !== "idle").length;
        expect(serving.length + d.create).toBeLessThanOrEqual(Math.max(s.spec.minPods, Math.ceil((busy + s.pendingTasks) / s.spec.slotsPerPod)));
      }),
      { numRuns: 3000 },
    );
  });

  it("a pool with zero pods and pending work always starts a pod when autoscaling and maxPods allow", () => {
    fc.assert(
      fc.property(specArb.map((sp) => ({ ...sp, autoscale: true })), fc.integer({ min: 1, max: 30 }), (sp, pending) => {
        const d = decideScaling({ spec: sp, pods: [], pendingTasks: pending, lastScaleUpAt: now, lastScaleDownAt: null, lowSince: null }, now);
        if (sp.maxPods > 0) expect(d.create).toBeGreaterThan(0);
      }),
    );
  });
});
