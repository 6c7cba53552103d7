import { describe, expect, it } from "vitest";
import { applySlotChange, countedPods, countSlots, knowsSlot, slotView, splitLost } from "../lib/slots";
import type { PoolDetail, SlotChange } from "../lib/types";

function pool(): PoolDetail {
  return {
    name: "p", runtime: "local", image: null, slotsPerPod: 2, minPods: 1, maxPods: 2, autoscale: true, utilization: 0,
    podCount: 1, busySlots: 0, reservedSlots: 0, totalSlots: 2, pendingTasks: 0, conditions: [],
    scaleUpAt: 0.8, scaleDownAt: 0.2, reservationTtlSeconds: 60, scaleUpCooldownSeconds: 0, scaleDownCooldownSeconds: 0, maxStep: 1, newPodGraceSeconds: 0, scaleUpMaxStep: null, maxTasksPerPod: null, maxPodAgeSeconds: null, capacityWindows: [], activeCapacityWindow: null,
    scalingEvents: [],
    pods: [
      {
        name: "p-a", phase: "Ready", createdAt: "2026-01-01T00:00:00Z", lastHeartbeatAt: null,
        slots: [
          { index: 0, state: "running", reservedUntil: null, task: { id: "t1", type: "plan", status: "running" } },
          { index: 1, state: "idle", reservedUntil: null, task: null },
        ],
      },
    ],
  };
}

const change = (over: Partial<SlotChange>): SlotChange => ({ pool: "p", pod: "p-a", index: 1, state: "running", taskId: "t2", at: "2026-01-01T00:00:01Z", ...over });

describe("applySlotChange", () => {
  it("moves the named slot to the reported state and task, leaving the others alone", () => {
    const before = pool();
    const after = applySlotChange(before, change({}));
    expect(after.pods[0]!.slots[1]).toMatchObject({ state: "running", task: { id: "t2", status: "running" } });
    expect(after.pods[0]!.slots[0]).toBe(before.pods[0]!.slots[0]);
    expect(before.pods[0]!.slots[1]!.state).toBe("idle");
  });

  it("keeps the task type when the same task moves from running to reserved", () => {
    const after = applySlotChange(pool(), change({ index: 0, state: "reserved", taskId: "t1" }));
    expect(after.pods[0]!.slots[0]!.task).toEqual({ id: "t1", type: "plan", status: "apply_pending" });
  });

  it("clears the task when the slot goes idle", () => {
    const after = applySlotChange(pool(), change({ index: 0, state: "idle", taskId: null }));
    expect(after.pods[0]!.slots[0]).toMatchObject({ state: "idle", task: null });
  });

  it("returns the same object for a slot it does not know, so callers refetch instead", () => {
    const before = pool();
    expect(applySlotChange(before, change({ pod: "p-new" }))).toBe(before);
    expect(knowsSlot(before, change({ pod: "p-new" }))).toBe(false);
    expect(knowsSlot(before, change({ index: 5 }))).toBe(false);
    expect(knowsSlot(before, change({}))).toBe(true);
  });
});

describe("countSlots", () => {
  it("counts each state across pods", () => {
    expect(countSlots(pool().pods)).toEqual({ running: 1, reserved: 0, idle: 1, starting: 0, total: 2 });
  });

  it("counts the idle slots of a pod still starting as starting, not idle", () => {
    const pods = pool().pods;
    const starting = { ...pods[0]!, name: "p-b", phase: "Starting", slots: pods[0]!.slots.map((s) => ({ ...s, state: "idle" as const, task: null })) };
    expect(slotView(starting, starting.slots[0]!)).toBe("starting");
    expect(slotView(pods[0]!, pods[0]!.slots[1]!)).toBe("idle");
    expect(countSlots([...pods, starting])).toEqual({ running: 1, reserved: 0, idle: 1, starting: 2, total: 4 });
  });

  it("keeps Lost pods apart and does not count them (nor Terminating ones) as pods", () => {
    const pods = pool().pods;
    const lost = { ...pods[0]!, name: "p-lost", phase: "Lost", slots: [] };
    const leaving = { ...pods[0]!, name: "p-term", phase: "Terminating", slots: [] };
    const { active, lost: apart } = splitLost([...pods, lost, leaving]);
    expect(active.map((p) => p.name)).toEqual(["p-a", "p-term"]);
    expect(apart.map((p) => p.name)).toEqual(["p-lost"]);
    expect(countedPods([...pods, lost, leaving]).map((p) => p.name)).toEqual(["p-a"]);
  });
});
