import { InvalidCronJobError } from "./errors.js";
import { parseSchedule, type CronSchedule } from "./schedule.js";

export type OverlapPolicy = "skip" | "wait";
/** Why a run happened: its fire time came, someone asked for it, or (for `missed` rows) the catch-up after downtime. */
export type CronTrigger = "schedule" | "manual" | "catch_up";

/** What a running job receives. */
export interface CronContext {
  /** The lock's fencing token in cluster mode (pass it to whatever the job writes); null in local mode. */
  fencingToken: number | null;
  /** Aborted when this replica loses the job's lock mid-run: stop, another replica may run now. */
  signal: AbortSignal;
  /** The fire time this run serves (the request time for a manual run). */
  scheduledAt: Date;
  replicaId: string;
  trigger: CronTrigger;
}

export interface CronJobOptions {
  /** Unique across the deployment: letters, digits, `.`, `_`, `:` and `-`. */
  name: string;
  /** 5 fields, or 6 with seconds first; nicknames such as `@hourly` work too. */
  schedule: string;
  /** IANA time zone the schedule is read in (default UTC). */
  timeZone?: string;
  /** Lock time-to-live in milliseconds (default 30 s); the lock is extended every third of it while the job runs. */
  lockTtl?: number;
  /** What happens to a fire time that comes while the previous run still runs (default `skip`). */
  overlap?: OverlapPolicy;
  /** Finished runs kept in the history (default: the scheduler's `historyKeep`); short for jobs that run every few seconds. */
  historyKeep?: number | null;
  run(ctx: CronContext): unknown;
}

export interface CronJobDefinition {
  readonly name: string;
  readonly schedule: string;
  readonly timeZone: string;
  readonly lockTtlMs: number;
  readonly overlap: OverlapPolicy;
  /** Null: the scheduler's default. */
  readonly historyKeep: number | null;
  readonly cron: CronSchedule;
  run(ctx: CronContext): unknown;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function checkHistoryKeep(keep: unknown): number | null {
  if (keep === undefined || keep === null) return null;
  if (typeof keep !== "number" || !Number.isInteger(keep) || keep < 1 || keep > 1_000_000) {
    throw new InvalidCronJobError("historyKeep", keep, "a whole number of runs, from 1 to 1000000");
  }
  return keep;
}

export function checkJobName(name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new InvalidCronJobError("name", name, "1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
  }
  return name;
}

/** Validates a job once, where it is written: a bad definition throws a typed error before anything is registered. */
export function defineCronJob(options: CronJobOptions): CronJobDefinition {
  const name = checkJobName(options.name);
  const timeZone = options.timeZone ?? "UTC";
  const cron = parseSchedule(options.schedule, timeZone);
  const lockTtlMs = options.lockTtl ?? 30_000;
  if (!Number.isInteger(lockTtlMs) || lockTtlMs < 100 || lockTtlMs > 2 ** 31 - 1) {
    throw new InvalidCronJobError("lockTtl", options.lockTtl, "a whole number of milliseconds, at least 100");
  }
  const overlap = options.overlap ?? "skip";
  if (overlap !== "skip" && overlap !== "wait") throw new InvalidCronJobError("overlap", overlap, "'skip' or 'wait'");
  if (typeof options.run !== "function") throw new InvalidCronJobError("run", options.run, "must be a function");
  const historyKeep = checkHistoryKeep(options.historyKeep);
  return Object.freeze({ name, schedule: options.schedule, timeZone, lockTtlMs, overlap, historyKeep, cron, run: options.run });
}
