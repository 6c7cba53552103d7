import type { Pod, PoolDetail, Slot, SlotChange, SlotState } from "./types";

// Pure helpers behind the live slot grid, so the grid's state changes are plain data transforms.

const STATUS_FOR_STATE: Record<SlotState, string> = { idle: "", running: "running", reserved: "apply_pending" };

/** The pool with one slot moved to the state an event reports; the same object when nothing changes. */
export function applySlotChange(pool: PoolDetail, change: SlotChange): PoolDetail {
  let changed = false;
  const pods = pool.pods.map((pod) => {
    if (pod.name !== change.pod) return pod;
    const slots = pod.slots.map((slot) => {
      if (slot.index !== change.index) return slot;
      changed = true;
      if (change.state === "idle" || !change.taskId) return { ...slot, state: change.state, task: null, reservedUntil: null };
      const sameTask = slot.task?.id === change.taskId;
      return {
        ...slot,
        state: change.state,
        reservedUntil: change.state === "reserved" ? slot.reservedUntil : null,
        task: { id: change.taskId, type: sameTask ? slot.task!.type : "", status: STATUS_FOR_STATE[change.state] },
      };
    });
    return { ...pod, slots };
  });
  return changed ? { ...pool, pods } : pool;
}

export function knowsSlot(pool: PoolDetail, change: SlotChange): boolean {
  return pool.pods.some((pod) => pod.name === change.pod && pod.slots.some((slot) => slot.index === change.index));
}

/** How a slot is drawn: an idle slot of a pod that is not up yet is "starting" (it cannot take work). */
export type SlotView = SlotState | "starting";

const STARTING_PHASES = new Set(["Pending", "Starting"]);

export function slotView(pod: Pick<Pod, "phase">, slot: Pick<Slot, "state">): SlotView {
  return slot.state === "idle" && STARTING_PHASES.has(pod.phase) ? "starting" : slot.state;
}

export interface SlotCounts {
  running: number;
  reserved: number;
  idle: number;
  starting: number;
  total: number;
}

export function countSlots(pods: Pod[]): SlotCounts {
  const counts: SlotCounts = { running: 0, reserved: 0, idle: 0, starting: 0, total: 0 };
  for (const pod of pods) {
    for (const slot of pod.slots) {
      counts[slotView(pod, slot)] += 1;
      counts.total += 1;
    }
  }
  return counts;
}

/** Pods that count as the pool's pods (the API's podCount): not Lost, not Terminating. */
export function countedPods(pods: Pod[]): Pod[] {
  return pods.filter((p) => p.phase !== "Lost" && p.phase !== "Terminating");
}

/** Lost pods apart from the rest: they hold no slots and are not the pool's pods any more. */
export function splitLost(pods: Pod[]): { active: Pod[]; lost: Pod[] } {
  return { active: pods.filter((p) => p.phase !== "Lost"), lost: pods.filter((p) => p.phase === "Lost") };
}
