import { ConflictError, NotFoundError, ValidationError } from "../errors.js";

/** The schedule does not parse, names an unknown time zone, or never fires. */
export class InvalidCronExpressionError extends ValidationError {
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    readonly reason: string,
  ) {
    super("schedule", `invalid cron schedule ${JSON.stringify(expression)} in time zone ${JSON.stringify(timeZone)}: ${reason}`);
  }
}

/** A job definition field other than the schedule is unusable (name, lock ttl, overlap policy, history keep, run). */
export class InvalidCronJobError extends ValidationError {
  constructor(
    field: "name" | "lockTtl" | "overlap" | "historyKeep" | "run" | "method",
    readonly value: unknown,
    reason: string,
  ) {
    super(field, `invalid cron job ${field}: ${reason}`);
  }
}

export class CronJobNotFoundError extends NotFoundError {
  constructor(readonly job: string) {
    super("cron job", job);
  }
}

export class CronJobAlreadyRegisteredError extends ConflictError {
  constructor(readonly job: string) {
    super(`cron job ${JSON.stringify(job)} is already registered`);
  }
}

/** A run-history query or retention setting that cannot be served: page size, cursor, status or keep count. */
export class InvalidCronQueryError extends ValidationError {
  constructor(
    field: "first" | "after" | "offset" | "status" | "keep",
    readonly value: unknown,
    reason: string,
  ) {
    super(field, `invalid ${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** A triggered run did not start anywhere in time (every replica busy with the job, or none running). */
export class CronTriggerTimeoutError extends ConflictError {
  constructor(
    readonly job: string,
    readonly waitedMs: number,
  ) {
    super(`the triggered run of ${job} did not start within ${Math.round(waitedMs / 1000)} s; it stays requested and runs when a replica is free`);
  }
}
