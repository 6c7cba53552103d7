export { InvalidScheduleError, ScheduleNameTakenError, ScheduleNotFoundError, TooManySchedulesError, type ScheduleField } from "./errors.js";
export { OVERLAP_POLICIES, decideOverlap, isOverlapPolicy, type OverlapDecision, type SchedulePolicy } from "./overlap.js";
export { checkScheduleSpec, SCHEDULE_DEFAULTS, type ScheduleInput, type ScheduleSpec } from "./spec.js";
export { jitterOffsetMs, nextFireTime, planFires, upcomingFireTimes, fireTimesInRange, MAX_MISSED_LISTED, MAX_MISSED_COUNTED, MAX_DUE_PER_PASS, type FirePlan, type FireTime, type Timing } from "./timing.js";
export { DISPATCH_JOB, dispatchSchedules, scheduleDispatchJob, type DispatchOptions, type DispatchReport } from "./dispatch.js";
export { fireTimeKey } from "./submit.js";
export { recordOutcomes } from "./outcomes.js";
export {
  backfillSchedule,
  countSchedules,
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  nextFireTimes,
  pauseSchedule,
  previewSchedule,
  resumeSchedule,
  triggerSchedule,
  updateSchedule,
  MAX_BACKFILL,
  MAX_SCHEDULES,
  type BackfillResult,
} from "./manage.js";
export { latestRuns, listScheduleRuns, pruneScheduleRuns, runCursor, type ScheduleRunPage } from "./history.js";
export type { Actor, RunTrigger, ScheduleRecord } from "./types.js";
