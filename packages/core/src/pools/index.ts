export { PoolController, ReconcilePassError, checkReconcilePass, type PoolControllerOptions, type ReconcileReport, type ScaleResult } from "./controller.js";
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
export { PoolNotFoundError, PoolExistsError, PoolBusyError } from "./errors.js";
export { getPool, findPoolSummary, slotsOfPod, listPods, podsOfPools, podsByName, poolsById, listPools, poolSummary, summarizePools, listScalingEvents, specOf, type PoolCondition, type PoolSummary, type PodWithSlots } from "./queries.js";
export { validatePoolSpec, withDefaults, mergeSpec, PoolSpecError, POOL_DEFAULTS, RUNTIMES, type PoolSpec, type PoolSpecInput } from "./spec.js";
export { poolMetrics } from "./metrics.js";
export { admitPoolSpec, describeOverride, DEFAULT_ADMISSION, PodPolicyError, PodPolicyOverrideError, type PoolActor, type PoolAdmissionConfig } from "./admission.js";
export { podPolicyViolations, SAFE_CAPABILITIES, type PodPolicy, type PodPolicyViolation } from "./pod-policy.js";
