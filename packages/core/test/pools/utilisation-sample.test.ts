// What one utilisation sample holds: slots by state from the pass's pods, and the pending queue
// by why it waits (the same split as the pending_tasks_by_reason gauge).
import { describe, expect, it } from "vitest";
import { pendingByReason, sampleOf, type PodSnapshot } from "../../src/pools/index.js";

const at = new Date("2026-03-01T12:00:00Z");
const pod = (name: string, phase: PodSnapshot["phase"], slots: PodSnapshot["slots"]): PodSnapshot => ({ name, phase, createdAt: at, readyAt: at, slots });

describe("utilisation sample", () => {
  const pods = [
    pod("a", "Ready", ["running", "reserved", "idle"]),
    pod("b", "Starting", ["idle", "idle", "idle"]),
    pod("c", "Lost", ["running", "idle", "idle"]),
  ];

  it("keeps the pending queue by reason beside the slots", () => {
    const counts = { keyBlocked: 4, pendingPlans: 2, pendingOthers: 5, runningPlans: 1 };
    const sample = sampleOf(pods, 7, pendingByReason(counts, true));
    expect(sample).toEqual({
      busySlots: 1,
      reservedSlots: 1,
      idleSlots: 1,
      startingSlots: 3,
      pendingTasks: 7,
      podCount: 2,
      pendingNoSlot: 5,
      pendingKeyBlocked: 4,
      pendingReservedCap: 2,
    });
  });

  it("counts plans as waiting for a slot when the reserved cap is not reached", () => {
    const sample = sampleOf(pods, 7, pendingByReason({ keyBlocked: 0, pendingPlans: 2, pendingOthers: 5, runningPlans: 0 }, false));
    expect([sample.pendingNoSlot, sample.pendingKeyBlocked, sample.pendingReservedCap]).toEqual([7, 0, 0]);
  });

  it("without a queue count, records no one waiting by reason", () => {
    expect(sampleOf(pods, 0)).toMatchObject({ pendingNoSlot: 0, pendingKeyBlocked: 0, pendingReservedCap: 0 });
  });
});
