export { PoolController, ReconcilePassError, checkReconcilePass, runtimeSpec, type PoolControllerOptions, type ReconcileReport, type ScaleResult } from "./controller.js";
export { PoolGuards, PoolGuardLostError, PoolBusyActingError, POOL_GUARD_TTL_MS, type PoolGuard } from "./guard.js";
export { planRuntime, toPodSnapshots, type PodRow, type PoolView, type RuntimePlan } from "./observe.js";
export {
  decideScaling,
  selectPodsToRemove,
  planManualScale,
  utilization,
  countSlots,
  livePods,
  isRemovable,
  nextLowSince,
  type PodSnapshot,
  type Phase,
  type SlotStateName,
  type PoolSnapshot,
  type ScalingDecision,
  type ScalingKind,
  type ScalingSpec,
} from "./decide.js";
export { PoolNotFoundError, PoolExistsError, PoolBusyError, PodBusyError, PodPhaseError } from "./errors.js";
export { countPools, getPool, findPoolSummary, scalingEventsOfPools, slotsOfPod, slotsOfPods, listPods, podsOfPools, podsByName, poolsById, listPools, poolSummary, summarizePools, listScalingEvents, specOf, type PoolCondition, type PoolSummary, type PodWithSlots } from "./queries.js";
export { validatePoolSpec, withDefaults, mergeSpec, PoolSpecError, POOL_DEFAULTS, RUNTIMES, type PoolSpec, type PoolSpecInput } from "./spec.js";
export { poolMetrics } from "./metrics.js";
export { pendingByReason, plansCapped, type PendingByReason } from "./queue.js";
export { slotStates, poolStates } from "./live.js";
export { admitPoolSpec, describeOverride, DEFAULT_ADMISSION, PodPolicyError, PodPolicyOverrideError, type PoolActor, type PoolAdmissionConfig } from "./admission.js";
export { podPolicyViolations, SAFE_CAPABILITIES, type PodPolicy, type PodPolicyViolation } from "./pod-policy.js";
