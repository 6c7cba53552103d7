import { defineCronJob, type CronContext, type CronJobDefinition } from "./define.js";

export interface BuiltinCronCallbacks {
  /** The pool reconcile pass. */
  reconcile(ctx: CronContext): unknown;
  expireReservations(ctx: CronContext): unknown;
  pruneHistory(ctx: CronContext): unknown;
  /** Default every 5 seconds. */
  reconcileSchedule?: string;
}

/**
 * A dead replica's lock holds a job back until it expires; the holder extends it every third
 * of this while it runs. Short, so the pool jobs resume within seconds after a crash.
 */
export const BUILTIN_LOCK_TTL_MS = 10_000;

/**
 * Runs kept of a built-in job that fires every few seconds: enough to see how its last minutes
 * went, without drowning the history of everything else.
 */
export const FREQUENT_JOB_HISTORY_KEEP = 50;

/** Berth's own jobs; the owners of pools, slots and history pass the work itself. */
export function builtinCronJobs(callbacks: BuiltinCronCallbacks): CronJobDefinition[] {
  return [
    defineCronJob({
      name: "reconcile-pools",
      schedule: callbacks.reconcileSchedule ?? "*/5 * * * * *",
      lockTtl: BUILTIN_LOCK_TTL_MS,
      historyKeep: FREQUENT_JOB_HISTORY_KEEP,
      run: (ctx) => callbacks.reconcile(ctx),
    }),
    defineCronJob({ name: "expire-reservations", schedule: "*/30 * * * * *", lockTtl: BUILTIN_LOCK_TTL_MS, run: (ctx) => callbacks.expireReservations(ctx) }),
    defineCronJob({ name: "prune-cron-history", schedule: "0 */10 * * * *", run: (ctx) => callbacks.pruneHistory(ctx) }),
  ];
}
