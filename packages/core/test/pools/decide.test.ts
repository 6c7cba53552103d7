import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideScaling, isRemovable, livePods, planManualScale, selectPodsToRemove, utilization, type Phase, type PodSnapshot, type PoolSnapshot, type ScalingSpec, type SlotStateName } from "../../src/pools/index.js";

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

  it("scales up above scaleUpAt, at most maxStep, never above maxPods", () => {
    const busy = [pod("a", [R, R, R]), pod("b", [R, R, V])];
    // 6 busy slots need ceil(6 / (3 × 0.8)) = 3 pods to sit at or below 80 %.
    expect(decideScaling(snap(busy), now)).toMatchObject({ kind: "scale_up", create: 1 });
    const burst = { ...snap(busy), spec: { ...spec, scaleUpAt: 0.4, scaleDownAt: 0.1 } };
    expect(decideScaling(burst, now)).toMatchObject({ kind: "scale_up", create: 2 });
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

  it("moves toward [minPods, maxPods], at most maxStep per pass beyond minPods, and never both adds and removes", () => {
    fc.assert(
      fc.property(snapshotArb, (r) => {
        const s = build(r);
        const d = decideScaling(s, now);
        const current = livePods(s.pods).length;
        expect(d.create === 0 || d.remove.length === 0).toBe(true);
        expect(d.toPods).toBe(current + d.create - d.remove.length);
        if (d.kind === "ensure_min") expect(d.toPods).toBe(s.spec.minPods);
        else {
          expect(d.create).toBeLessThanOrEqual(s.spec.maxStep);
          expect(d.remove.length).toBeLessThanOrEqual(s.spec.maxStep);
        }
        if (d.create > 0) expect(d.toPods).toBeLessThanOrEqual(Math.max(s.spec.maxPods, s.spec.minPods));
        if (d.remove.length > 0) expect(d.toPods).toBeGreaterThanOrEqual(Math.min(current, s.spec.minPods));
      }),
      { numRuns: 3000 },
    );
  });

  it("respects cooldowns: no autoscale-up inside the scale-up cooldown except cold start and minPods", () => {
    fc.assert(
      fc.property(snapshotArb, (r) => {
        const s = build(r);
        const d = decideScaling(s, now);
        const current = livePods(s.pods).length;
        const inUpCooldown = s.lastScaleUpAt !== null && now.getTime() - s.lastScaleUpAt.getTime() < s.spec.scaleUpCooldownSeconds * 1000;
        if (d.kind === "scale_up" && inUpCooldown) expect(current).toBe(0);
        const inDownCooldown = s.lastScaleDownAt !== null && now.getTime() - s.lastScaleDownAt.getTime() < s.spec.scaleDownCooldownSeconds * 1000;
        if (d.kind === "scale_down" && inDownCooldown) expect(current).toBeGreaterThan(s.spec.maxPods);
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
