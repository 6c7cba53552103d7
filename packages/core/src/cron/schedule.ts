import { Cron } from "croner";
import { InvalidCronExpressionError } from "./errors.js";

/** A parsed cron expression in its time zone: the pure part of the scheduler. */
export interface CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  /** The first fire time strictly after `after`, or null when there is none. */
  next(after: Date): Date | null;
}

function checkTimeZone(expression: string, timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new InvalidCronExpressionError(expression, timeZone, "unknown time zone");
  }
}

/**
 * Parses a 5-field (minute precision) or 6-field (with seconds) expression, or a nickname
 * such as `@hourly`, for `timeZone` (IANA name, default UTC).
 */
export function parseSchedule(expression: string, timeZone = "UTC"): CronSchedule {
  if (typeof expression !== "string" || expression.trim() === "") throw new InvalidCronExpressionError(String(expression), timeZone, "empty expression");
  if (typeof timeZone !== "string" || timeZone === "") throw new InvalidCronExpressionError(expression, String(timeZone), "empty time zone");
  checkTimeZone(expression, timeZone);
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: timeZone, mode: "5-or-6-parts" });
  } catch (error) {
    throw new InvalidCronExpressionError(expression, timeZone, (error as Error).message);
  }
  if (cron.nextRun(new Date()) === null) throw new InvalidCronExpressionError(expression, timeZone, "never fires");
  return {
    expression,
    timeZone,
    next: (after) => cron.nextRun(after),
  };
}

/**
 * Which fire time to run when a tick happens at `now` and `nextFireAt` was due: the latest
 * one not after `now` (older ones passed while this replica was busy or asleep and are only
 * counted in `passed`), and the fire time to wait for after it.
 */
export function dueFireTime(schedule: CronSchedule, nextFireAt: Date, now: Date, cap = 1000): { fireAt: Date | null; passed: number; next: Date | null } {
  if (nextFireAt.getTime() > now.getTime()) return { fireAt: null, passed: 0, next: nextFireAt };
  let fireAt = nextFireAt;
  let passed = 0;
  for (let next = schedule.next(fireAt); next && next.getTime() <= now.getTime(); next = schedule.next(fireAt)) {
    fireAt = next;
    if (++passed >= cap) {
      // Far behind (a suspended process): jump to the latest fire time without walking every one.
      const latest = latestNotAfter(schedule, now) ?? fireAt;
      return { fireAt: latest, passed, next: schedule.next(latest) };
    }
  }
  return { fireAt, passed, next: schedule.next(fireAt) };
}

function latestNotAfter(schedule: CronSchedule, now: Date): Date | null {
  // Search backwards by doubling windows until a fire time appears, then walk forward.
  for (let window = 1000; window < 400 * 86_400_000; window *= 2) {
    let t = schedule.next(new Date(now.getTime() - window));
    if (!t || t.getTime() > now.getTime()) continue;
    for (let n = schedule.next(t); n && n.getTime() <= now.getTime(); n = schedule.next(t)) t = n;
    return t;
  }
  return null;
}

/** The fire times strictly after `since` and not after `until`: first, last and how many (counting stops at `cap`). */
export function fireTimesBetween(schedule: CronSchedule, since: Date, until: Date, cap = 10_000): { first: Date; last: Date; count: number; capped: boolean } | null {
  const first = schedule.next(since);
  if (!first || first.getTime() > until.getTime()) return null;
  let last = first;
  let count = 1;
  for (let next = schedule.next(last); next && next.getTime() <= until.getTime(); next = schedule.next(last)) {
    if (count >= cap) return { first, last: latestNotAfter(schedule, until) ?? last, count, capped: true };
    last = next;
    count++;
  }
  return { first, last, count, capped: false };
}

/** The last `n` fire times not after `until`, oldest first (fewer when there are fewer within 400 days). */
export function fireTimesBefore(schedule: CronSchedule, until: Date, n: number): Date[] {
  // Doubling windows back from `until`: a few times n fire times are looked at, however sparse or dense.
  for (let window = 1000; ; window *= 2) {
    const found: Date[] = [];
    for (let t = schedule.next(new Date(until.getTime() - window)); t && t.getTime() <= until.getTime(); t = schedule.next(t)) {
      found.push(t);
      if (found.length > n) found.shift();
    }
    if (found.length >= n || window >= 400 * 86_400_000) return found;
  }
}
