import { describe, expect, it } from "vitest";
import { activeCapacityWindows, limitsAt, PoolSpecError, selectPodsToRecycle, validatePoolSpec, withDefaults, type CapacityWindowInput, type PodSnapshot } from "../../src/pools/index.js";

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PoolSpecError);
    return (e as PoolSpecError).field;
  }
  return undefined;
};
const withWindows = (capacityWindows: unknown[], extra: Record<string, unknown> = {}) =>
  validatePoolSpec(withDefaults({ name: "w", capacityWindows: capacityWindows as CapacityWindowInput[], ...extra }), ["local"]);
const weekdays = { cron: "0 8 * * 1-5", timeZone: "Europe/Berlin", durationSeconds: 10 * 3600, minPods: 5 };

describe("capacity window validation", () => {
  it("accepts a window and fills its defaults", () => {
    expect(withWindows([weekdays]).capacityWindows).toEqual([{ ...weekdays, maxPods: null, blockScaleDown: false, prewarmSeconds: 120 }]);
  });

  it("names the field at fault", () => {
    expect(fieldOf(() => withWindows([weekdays, { ...weekdays, cron: "61 * * * *" }]))).toBe("capacityWindows[1].cron");
    expect(fieldOf(() => withWindows([{ ...weekdays, timeZone: "Mars/Olympus" }]))).toBe("capacityWindows[0].timeZone");
    expect(fieldOf(() => withWindows([{ ...weekdays, durationSeconds: 10 }]))).toBe("capacityWindows[0].durationSeconds");
    expect(fieldOf(() => withWindows([{ ...weekdays, minPods: 50 }]))).toBe("capacityWindows[0].minPods");
    expect(fieldOf(() => withWindows([{ ...weekdays, maxPods: -1 }]))).toBe("capacityWindows[0].maxPods");
    expect(fieldOf(() => withWindows([{ ...weekdays, blockScaleDown: "yes" }]))).toBe("capacityWindows[0].blockScaleDown");
    expect(fieldOf(() => withWindows([{ cron: "0 8 * * *", durationSeconds: 3600 }]))).toBe("capacityWindows[0]");
    expect(fieldOf(() => withWindows([{ ...weekdays, color: "red" }]))).toBe("capacityWindows[0].color");
    expect(fieldOf(() => withWindows(Array.from({ length: 21 }, () => weekdays)))).toBe("capacityWindows");
  });

  it("a window's maxPods may lift its minPods above the pool's maxPods", () => {
    expect(withWindows([{ ...weekdays, minPods: 15, maxPods: 20 }]).capacityWindows[0]!.minPods).toBe(15);
  });

  it("recycling limits are validated", () => {
    expect(fieldOf(() => validatePoolSpec(withDefaults({ name: "w", maxTasksPerPod: 0 }), ["local"]))).toBe("maxTasksPerPod");
    expect(fieldOf(() => validatePoolSpec(withDefaults({ name: "w", maxPodAgeSeconds: 5 }), ["local"]))).toBe("maxPodAgeSeconds");
    expect(fieldOf(() => validatePoolSpec(withDefaults({ name: "w", scaleUpMaxStep: 0 }), ["local"]))).toBe("scaleUpMaxStep");
    expect(validatePoolSpec(withDefaults({ name: "w", maxTasksPerPod: 1 }), ["local"])).toMatchObject({ maxTasksPerPod: 1, maxPodAgeSeconds: null, scaleUpMaxStep: null });
  });
});

describe("capacity windows in effect", () => {
  const [window] = withWindows([weekdays]).capacityWindows;
  const spec = { minPods: 1, maxPods: 10, capacityWindows: [window!] };
  // Monday 2026-03-02, 08:00 in Berlin is 07:00 UTC (CET).
  const at = (iso: string) => new Date(iso);

  it("take effect their prewarm lead before the start, in the window's time zone, and end after the duration", () => {
    expect(limitsAt(spec, at("2026-03-02T06:57:00Z")).minPods).toBe(1);
    expect(limitsAt(spec, at("2026-03-02T06:58:00Z"))).toMatchObject({ minPods: 5, maxPods: 10, blockScaleDown: false });
    expect(limitsAt(spec, at("2026-03-02T16:59:59Z")).minPods).toBe(5);
    expect(limitsAt(spec, at("2026-03-02T17:00:00Z")).minPods).toBe(1);
    // Saturday: no window.
    expect(activeCapacityWindows(spec.capacityWindows, at("2026-03-07T09:00:00Z"))).toEqual([]);
  });

  it("report which occurrence is in effect", () => {
    const [active] = activeCapacityWindows(spec.capacityWindows, at("2026-03-02T12:00:00Z"));
    expect(active).toMatchObject({ index: 0, startsAt: at("2026-03-02T07:00:00Z"), endsAt: at("2026-03-02T17:00:00Z") });
  });

  it("combine: the highest minPods and maxPods, any blockScaleDown", () => {
    const both = withWindows([weekdays, { cron: "0 * * * *", durationSeconds: 3600, maxPods: 30, blockScaleDown: true }]).capacityWindows;
    expect(limitsAt({ minPods: 0, maxPods: 10, capacityWindows: both }, at("2026-03-02T12:00:00Z"))).toMatchObject({ minPods: 5, maxPods: 30, blockScaleDown: true });
  });
});

describe("pod recycling selection", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const pod = (name: string, ageSeconds: number, tasksStarted: number, phase: PodSnapshot["phase"] = "Ready"): PodSnapshot => ({
    name,
    phase,
    createdAt: new Date(now.getTime() - ageSeconds * 1000),
    readyAt: null,
    slots: ["idle"],
    tasksStarted,
  });

  it("picks Ready pods past maxTasksPerPod or maxPodAgeSeconds, and none without limits", () => {
    const pods = [pod("fresh", 10, 0), pod("worn", 10, 5), pod("old", 7200, 0), pod("draining", 7200, 9, "Draining")];
    expect(selectPodsToRecycle(pods, { maxTasksPerPod: 5, maxPodAgeSeconds: 3600 }, now).map((p) => p.name)).toEqual(["worn", "old"]);
    expect(selectPodsToRecycle(pods, { maxTasksPerPod: null, maxPodAgeSeconds: null }, now)).toEqual([]);
    expect(selectPodsToRecycle(pods, { maxTasksPerPod: 1, maxPodAgeSeconds: null }, now)[0]!.reason).toContain("maxTasksPerPod is 1");
  });
});
