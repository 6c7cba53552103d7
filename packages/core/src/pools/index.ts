export { PoolController, ReconcilePassError, checkReconcilePass, runtimeSpec, type PoolControllerOptions, type ReconcileReport, type ScaleResult } from "./controller.js";
export { PoolGuards, PoolGuardLostError, PoolBusyActingError, POOL_GUARD_TTL_MS, type PoolGuard } from "./guard.js";
export { planRuntime, toPodSnapshots, type PodRow, type PoolView, type RuntimePlan } from "./observe.js";
export {
  decideScaling,
  selectPodsToRemove,
  planManualScale,
  utilization,
  runningUtilization,
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
export { activeCapacityWindowOf, countPools, getPool, findPoolSummary, scalingEventsOfPools, slotsOfPod, slotsOfPods, listPods, podsOfPools, podsByName, poolsById, listPools, poolSummary, summarizePools, listScalingEvents, specOf, type PoolCondition, type PoolSummary, type PodWithSlots } from "./queries.js";
export { validatePoolSpec, withDefaults, mergeSpec, PoolSpecError, POOL_DEFAULTS, RUNTIMES, type PoolSpec, type PoolSpecInput } from "./spec.js";
export { poolMetrics } from "./metrics.js";
export { pendingByReason, plansCapped, type PendingByReason } from "./queue.js";
export { slotStates, poolStates } from "./live.js";
export { admitPoolSpec, describeOverride, DEFAULT_ADMISSION, PodPolicyError, PodPolicyOverrideError, type PoolActor, type PoolAdmissionConfig } from "./admission.js";
export { podPolicyViolations, SAFE_CAPABILITIES, type PodPolicy, type PodPolicyViolation } from "./pod-policy.js";
export { selectPodsToRecycle, recycleReason, type RecycleSpec } from "./recycle.js";
export {
  activeCapacityWindows,
  checkCapacityWindows,
  describeWindow,
  limitsAt,
  DEFAULT_PREWARM_SECONDS,
  MAX_CAPACITY_WINDOWS,
  type ActiveCapacityWindow,
  type CapacityWindow,
  type CapacityWindowInput,
} from "./windows.js";
export {
  admitTaskTypes,
  checkTaskType,
  parseTaskTypes,
  resolveTaskType,
  LocalCommandsForbiddenError,
  TaskTypeSpecError,
  UnknownTaskTypeError,
  BUILTIN_TASK_TYPES,
  MAX_TASK_TYPES,
  type TaskTypeInput,
  type TaskTypeSpec,
} from "./task-types.js";
export {
  poolUtilisation,
  pruneSamples,
  recordSample,
  sampleOf,
  DEFAULT_SAMPLE_INTERVAL_SECONDS,
  DEFAULT_SAMPLE_RETENTION_SECONDS,
  MAX_HOUR_POINTS,
  DAY_BUCKET_SECONDS,
  type PoolUtilisation,
  type UtilisationPoint,
  type UtilisationRange,
  type UtilisationSample,
} from "./utilisation.js";
