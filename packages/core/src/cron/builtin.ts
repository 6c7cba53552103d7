import { defineCronJob, type CronContext, type CronJobDefinition } from "./define.js";

export interface BuiltinCronCallbacks {
  /** The pool reconcile pass. */
  reconcile(ctx: CronContext): unknown;
  expireReservations(ctx: CronContext): unknown;
  pruneHistory(ctx: CronContext): unknown;
  /** Default every 5 seconds. */
  reconcileSchedule?: string;
}

/** Berth's own jobs; the owners of pools, slots and history pass the work itself. */
export function builtinCronJobs(callbacks: BuiltinCronCallbacks): CronJobDefinition[] {
  return [
    defineCronJob({ name: "reconcile-pools", schedule: callbacks.reconcileSchedule ?? "*/5 * * * * *", run: (ctx) => callbacks.reconcile(ctx) }),
    defineCronJob({ name: "expire-reservations", schedule: "*/30 * * * * *", run: (ctx) => callbacks.expireReservations(ctx) }),
    defineCronJob({ name: "prune-cron-history", schedule: "0 */10 * * * *", run: (ctx) => callbacks.pruneHistory(ctx) }),
  ];
}
