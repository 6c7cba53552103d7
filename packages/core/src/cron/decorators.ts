import { defineCronJob, checkJobName, type CronContext, type CronJobDefinition, type OverlapPolicy } from "./define.js";
import { InvalidCronJobError } from "./errors.js";
import { parseSchedule } from "./schedule.js";

export interface ClusterSafeCronOptions {
  /** Default: `<ClassName>.<methodName>`. */
  name?: string;
  timeZone?: string;
  lockTtl?: number;
  overlap?: OverlapPolicy;
  historyKeep?: number;
}

type CronMethod<This> = (this: This, ctx: CronContext) => unknown;

const jobsOf = new WeakMap<object, CronJobDefinition[]>();

/**
 * Marks an instance method as a cluster-safe cron job (standard decorators, no
 * experimentalDecorators). The schedule is checked when the class is defined; each instance
 * contributes its jobs, bound to itself, to `cronJobsOf(instance)`.
 */
export function ClusterSafeCron(expression: string, options: ClusterSafeCronOptions = {}) {
  parseSchedule(expression, options.timeZone);
  if (options.name !== undefined) checkJobName(options.name);
  return function <This extends object>(method: CronMethod<This>, context: ClassMethodDecoratorContext<This, CronMethod<This>>): void {
    if (context.static) throw new InvalidCronJobError("method", String(context.name), "must be an instance method");
    context.addInitializer(function (this: This) {
      const job = defineCronJob({
        name: options.name ?? `${this.constructor.name}.${String(context.name)}`,
        schedule: expression,
        timeZone: options.timeZone,
        lockTtl: options.lockTtl,
        overlap: options.overlap,
        historyKeep: options.historyKeep,
        run: (ctx) => method.call(this, ctx),
      });
      const list = jobsOf.get(this) ?? [];
      list.push(job);
      jobsOf.set(this, list);
    });
  };
}

/** The cron jobs declared with decorators on `instance`'s class, bound to `instance`. */
export function cronJobsOf(instance: object): CronJobDefinition[] {
  return [...(jobsOf.get(instance) ?? [])];
}

export const ClusterSafeCronEveryMinute = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 * * * * *", options);
export const ClusterSafeCronEvery5Minutes = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 */5 * * * *", options);
export const ClusterSafeCronEvery10Minutes = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 */10 * * * *", options);
export const ClusterSafeCronEvery30Minutes = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 */30 * * * *", options);
export const ClusterSafeCronEveryHour = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 0 * * * *", options);
export const ClusterSafeCronEveryDay = (options?: ClusterSafeCronOptions) => ClusterSafeCron("0 0 0 * * *", options);
