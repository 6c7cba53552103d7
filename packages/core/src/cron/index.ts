export { defineCronJob, type CronContext, type CronJobDefinition, type CronJobOptions, type CronTrigger, type OverlapPolicy } from "./define.js";
export {
  ClusterSafeCron,
  ClusterSafeCronEveryMinute,
  ClusterSafeCronEvery5Minutes,
  ClusterSafeCronEvery10Minutes,
  ClusterSafeCronEvery30Minutes,
  ClusterSafeCronEveryHour,
  ClusterSafeCronEveryDay,
  cronJobsOf,
  type ClusterSafeCronOptions,
} from "./decorators.js";
export { CronJobAlreadyRegisteredError, CronJobNotFoundError, CronTriggerTimeoutError, InvalidCronExpressionError, InvalidCronJobError, InvalidCronQueryError } from "./errors.js";
export { parseSchedule, dueFireTime, fireTimesBetween, fireTimesBefore, type CronSchedule } from "./schedule.js";
export { listCronRuns, pruneCronHistory, type CronRunPage, type CronRunQuery } from "./history.js";
export { createCronScheduler, type CronJobStatus, type CronScheduler, type CronSchedulerOptions } from "./scheduler.js";
export { builtinCronJobs, BUILTIN_LOCK_TTL_MS, FREQUENT_JOB_HISTORY_KEEP, type BuiltinCronCallbacks } from "./builtin.js";
export { cronRunsPage, countCronRuns, type CronRunFilter } from "./history-offset.js";
