import { InvalidCronExpressionError, parseSchedule, type CronSchedule } from "../cron/index.js";
import { MAX_PAYLOAD_BYTES } from "../tasks/index.js";
import { InvalidScheduleError } from "./errors.js";
import { isOverlapPolicy, OVERLAP_POLICIES, type SchedulePolicy } from "./overlap.js";
import { nextFireTime, type Timing } from "./timing.js";

/** What a client sends to create a schedule (or, every field optional, to change one). */
export interface ScheduleInput {
  name: string;
  cron: string;
  /** IANA time zone (default UTC). */
  timeZone?: string | null;
  pool: string;
  taskType: string;
  payload?: unknown;
  concurrencyKey?: string | null;
  timeoutSeconds?: number | null;
  overlap?: string | null;
  catchupWindowSeconds?: number | null;
  jitterSeconds?: number | null;
  startAt?: Date | null;
  endAt?: Date | null;
  maxRuns?: number | null;
  pauseAfterFailures?: number | null;
}

/** A checked schedule definition, as stored (the pool still by name). */
export interface ScheduleSpec {
  name: string;
  cron: string;
  timeZone: string;
  pool: string;
  taskType: string;
  payload: unknown;
  concurrencyKey: string | null;
  timeoutSeconds: number | null;
  overlap: SchedulePolicy;
  catchupWindowSeconds: number;
  jitterSeconds: number;
  startAt: Date | null;
  endAt: Date | null;
  maxRuns: number | null;
  pauseAfterFailures: number | null;
}

export const SCHEDULE_DEFAULTS = { timeZone: "UTC", overlap: "skip", catchupWindowSeconds: 60, jitterSeconds: 0 } as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TASK_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
const CONCURRENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const WEEK_SECONDS = 7 * 86_400;
const MAX_NOTE = 500;

function wholeNumber(field: ConstructorParameters<typeof InvalidScheduleError>[0], value: number, min: number, max: number, unit: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidScheduleError(field, `${field} must be a whole number of ${unit} from ${min} to ${max}`);
  return value;
}

function optionalWholeNumber(field: ConstructorParameters<typeof InvalidScheduleError>[0], value: number | null | undefined, min: number, max: number, unit: string): number | null {
  return value === null || value === undefined ? null : wholeNumber(field, value, min, max, unit);
}

export function checkDate(field: "startAt" | "endAt" | "from" | "to", value: Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidScheduleError(field, `${field} must be a date and time`);
  return value;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: unknown): string {
  if (typeof timeZone !== "string" || timeZone === "" || timeZone.length > 64) throw new InvalidScheduleError("timeZone", "timeZone must be an IANA time zone such as Europe/Berlin");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new InvalidScheduleError("timeZone", `unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/Berlin`);
  }
  return timeZone;
}

// Parsed expressions by text and zone: the dispatcher reads every schedule each second.
const parsed = new Map<string, CronSchedule>();
const PARSED_KEEP = 5000;

/** Parses the expression in its zone; a bad one is an error naming `cron` (or `timeZone`). */
export function checkCron(cron: unknown, timeZone: string): CronSchedule {
  if (typeof cron !== "string" || cron.trim() === "" || cron.length > 256) throw new InvalidScheduleError("cron", "cron must be a cron expression of 5 fields, or 6 with seconds first");
  const key = `${cron.trim()}\u0000${timeZone}`;
  const known = parsed.get(key);
  if (known) return known;
  try {
    const schedule = parseSchedule(cron.trim(), timeZone);
    if (parsed.size >= PARSED_KEEP) parsed.clear();
    parsed.set(key, schedule);
    return schedule;
  } catch (error) {
    if (error instanceof InvalidCronExpressionError) throw new InvalidScheduleError("cron", `invalid cron expression ${JSON.stringify(cron)}: ${error.reason}`);
    throw error;
  }
}

export function checkNote(note: unknown): string | null {
  if (note === null || note === undefined || note === "") return null;
  if (typeof note !== "string" || note.length > MAX_NOTE) throw new InvalidScheduleError("note", `note must be text of at most ${MAX_NOTE} characters`);
  return note;
}

/** The timing of a checked spec: what the fire-time functions need. */
export function timingOf(spec: Pick<ScheduleSpec, "cron" | "timeZone" | "startAt" | "endAt">, jitterMs = 0): Timing {
  return { cron: checkCron(spec.cron, spec.timeZone), jitterMs, startAt: spec.startAt, endAt: spec.endAt };
}

/**
 * Checks a whole definition, field by field, in the order a person reads a form; the first
 * fault throws an InvalidScheduleError naming its field. `now` decides whether the start/end
 * window still holds a fire time. Pure.
 */
export function checkScheduleSpec(input: ScheduleInput, now: Date): ScheduleSpec {
  if (typeof input.name !== "string" || !NAME.test(input.name)) {
    throw new InvalidScheduleError("name", "name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  const timeZone = checkTimeZone(input.timeZone ?? SCHEDULE_DEFAULTS.timeZone);
  const cron = checkCron(input.cron, timeZone);
  if (typeof input.pool !== "string" || input.pool === "") throw new InvalidScheduleError("pool", "pool must name a pool");
  const taskType = typeof input.taskType === "string" ? input.taskType.trim() : "";
  if (!TASK_TYPE.test(taskType)) throw new InvalidScheduleError("taskType", "taskType must be 1-64 characters of letters, digits, _ . : -");
  const payload = input.payload ?? {};
  const size = Buffer.byteLength(JSON.stringify(payload), "utf8");
  if (size > MAX_PAYLOAD_BYTES) throw new InvalidScheduleError("payload", `payload is ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
  const concurrencyKey = input.concurrencyKey ?? null;
  if (concurrencyKey !== null && !CONCURRENCY_KEY.test(concurrencyKey)) throw new InvalidScheduleError("concurrencyKey", "concurrencyKey must be 1-128 printable ASCII characters without spaces");
  const timeoutSeconds = optionalWholeNumber("timeoutSeconds", input.timeoutSeconds, 1, WEEK_SECONDS, "seconds");
  const overlap = input.overlap ?? SCHEDULE_DEFAULTS.overlap;
  if (!isOverlapPolicy(overlap)) throw new InvalidScheduleError("overlap", `overlap must be one of ${OVERLAP_POLICIES.join(", ")}`);
  const catchupWindowSeconds = wholeNumber("catchupWindowSeconds", input.catchupWindowSeconds ?? SCHEDULE_DEFAULTS.catchupWindowSeconds, 1, WEEK_SECONDS, "seconds");
  const jitterSeconds = wholeNumber("jitterSeconds", input.jitterSeconds ?? SCHEDULE_DEFAULTS.jitterSeconds, 0, 3600, "seconds");
  const startAt = checkDate("startAt", input.startAt);
  const endAt = checkDate("endAt", input.endAt);
  if (startAt && endAt && endAt.getTime() <= startAt.getTime()) throw new InvalidScheduleError("endAt", "endAt must be after startAt");
  const maxRuns = optionalWholeNumber("maxRuns", input.maxRuns, 1, 1_000_000_000, "runs");
  const pauseAfterFailures = optionalWholeNumber("pauseAfterFailures", input.pauseAfterFailures, 1, 1000, "failures");
  const timing: Timing = { cron, jitterMs: 0, startAt, endAt };
  if (!nextFireTime(timing, now)) {
    const window = `${startAt && startAt > now ? startAt.toISOString() : "now"} and ${endAt?.toISOString() ?? "the end of time"}`;
    throw new InvalidScheduleError(endAt ? "endAt" : "cron", `the schedule never fires: ${JSON.stringify(input.cron)} in ${timeZone} has no fire time between ${window}`);
  }
  return {
    name: input.name,
    cron: input.cron.trim(),
    timeZone,
    pool: input.pool,
    taskType,
    payload,
    concurrencyKey,
    timeoutSeconds,
    overlap,
    catchupWindowSeconds,
    jitterSeconds,
    startAt,
    endAt,
    maxRuns,
    pauseAfterFailures,
  };
}
