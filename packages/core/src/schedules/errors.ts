import { ConflictError, NotFoundError, ValidationError } from "../errors.js";

/** The schedule fields a request can get wrong; each error names one. */
export type ScheduleField =
  | "name"
  | "cron"
  | "timeZone"
  | "pool"
  | "taskType"
  | "payload"
  | "concurrencyKey"
  | "timeoutSeconds"
  | "overlap"
  | "catchupWindowSeconds"
  | "jitterSeconds"
  | "startAt"
  | "endAt"
  | "maxRuns"
  | "pauseAfterFailures"
  | "note"
  | "from"
  | "to"
  | "count"
  | "first"
  | "after";

/** A schedule request that cannot be served as asked; nothing was stored. */
export class InvalidScheduleError extends ValidationError {
  constructor(
    override readonly field: ScheduleField,
    message: string,
  ) {
    super(field, message);
  }
}

export class ScheduleNotFoundError extends NotFoundError {
  constructor(readonly schedule: string) {
    super("schedule", schedule);
  }
}

export class ScheduleNameTakenError extends ConflictError {
  constructor(readonly schedule: string) {
    super(`a schedule named ${JSON.stringify(schedule)} already exists`);
  }
}

/** Berth keeps at most this many schedules; more would need a bigger dispatch budget. */
export class TooManySchedulesError extends ConflictError {
  constructor(readonly limit: number) {
    super(`Berth keeps at most ${limit} schedules; delete one first`);
  }
}
