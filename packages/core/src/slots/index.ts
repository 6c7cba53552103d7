export { allocateOnce, placePending, type Placement } from "./allocate.js";
export { releaseSlotOf, closeAssignment, publishSlotChange, type ReleasedSlot } from "./release.js";
export { slotMetrics } from "./metrics.js";
export { slotsForTasks } from "./queries.js";
