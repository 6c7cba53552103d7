import { fireTimesBefore, fireTimesBetween, type CronSchedule } from "../cron/index.js";

/** When a schedule's fire times fall: the cron expression in its zone, jitter, and the start/end window. */
export interface Timing {
  cron: CronSchedule;
  /** Added to every nominal fire time (see `jitterOffsetMs`). */
  jitterMs: number;
  startAt: Date | null;
  endAt: Date | null;
}

/** One fire time: nominal (the unique key of its run) and due (nominal plus jitter). */
export interface FireTime {
  fireAt: Date;
  dueAt: Date;
}

/**
 * The schedule's jitter: whole seconds from 0 to `jitterSeconds`, derived from its id, so every
 * fire time of one schedule moves by the same amount (every replica computes the same) while
 * schedules with the same expression spread out.
 */
export function jitterOffsetMs(scheduleId: string, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  // FNV-1a: small, stable across processes and versions.
  let hash = 0x811c9dc5;
  for (let i = 0; i < scheduleId.length; i++) {
    hash ^= scheduleId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % (jitterSeconds + 1)) * 1000;
}

const fire = (t: Timing, fireAt: Date): FireTime => ({ fireAt, dueAt: new Date(fireAt.getTime() + t.jitterMs) });

/** The first nominal fire time strictly after `after` inside [startAt, endAt], or null. */
export function nextFireTime(t: Timing, after: Date): Date | null {
  const from = t.startAt && t.startAt.getTime() > after.getTime() ? new Date(t.startAt.getTime() - 1) : after;
  const next = t.cron.next(from);
  if (!next || (t.endAt && next.getTime() > t.endAt.getTime())) return null;
  return next;
}

/** The next `count` fire times due after `now`, at most `remaining` of them (a run limit). */
export function upcomingFireTimes(t: Timing, now: Date, count: number, remaining = Number.POSITIVE_INFINITY): FireTime[] {
  const out: FireTime[] = [];
  let after = new Date(now.getTime() - t.jitterMs);
  while (out.length < Math.min(count, remaining)) {
    const next = nextFireTime(t, after);
    if (!next) break;
    out.push(fire(t, next));
    after = next;
  }
  return out;
}

/** Missed fire times of one gap listed one by one (the newest); older ones are only counted. */
export const MAX_MISSED_LISTED = 100;
/** Missed fire times of one gap counted exactly; beyond this the count says "at least". */
export const MAX_MISSED_COUNTED = 1000;
/** Fire times run per schedule per pass; the rest wait for the next pass (one second later). */
export const MAX_DUE_PER_PASS = 100;

export interface FirePlan {
  /** Older than the catch-up window: to record as missed, oldest first (the newest MAX_MISSED_LISTED). */
  missed: FireTime[];
  /** Missed fire times older than the listed ones (at least this many when `missedCapped`). */
  missedUnlisted: number;
  missedCapped: boolean;
  /** Within the catch-up window: to run now, oldest first. */
  due: FireTime[];
  /** The last fire time this plan covers: the schedule's new `servedUntil` once carried out. */
  servedUntil: Date;
}

/**
 * What a dispatch pass at `now` does with the fire times after `servedUntil`: each one due by
 * now is either run (due within the catch-up window) or recorded as missed (older). However long
 * the gap, the work is bounded: missed fire times are counted up to a cap and only the newest
 * are listed, found by searching back from the window's edge. Pure.
 */
export function planFires(t: Timing, input: { servedUntil: Date; now: Date; catchupWindowMs: number }): FirePlan {
  const plan: FirePlan = { missed: [], missedUnlisted: 0, missedCapped: false, due: [], servedUntil: input.servedUntil };
  const now = input.now.getTime();
  // Missed: due more than the window ago, i.e. nominal fire time before this edge.
  const edge = now - input.catchupWindowMs - t.jitterMs;
  const since = Math.max(input.servedUntil.getTime(), t.startAt ? t.startAt.getTime() - 1 : -Infinity);
  const until = Math.min(edge - 1, t.endAt ? t.endAt.getTime() : Infinity);
  if (since < until) {
    const span = fireTimesBetween(t.cron, new Date(since), new Date(until), MAX_MISSED_COUNTED);
    if (span) {
      plan.missed = fireTimesBefore(t.cron, span.last, MAX_MISSED_LISTED)
        .filter((f) => f.getTime() > since)
        .map((f) => fire(t, f));
      plan.missedUnlisted = Math.max(0, span.count - plan.missed.length);
      plan.missedCapped = span.capped;
      plan.servedUntil = span.last;
    }
  }
  while (plan.due.length < MAX_DUE_PER_PASS) {
    const next = nextFireTime(t, plan.servedUntil);
    if (!next) break;
    const f = fire(t, next);
    if (f.dueAt.getTime() > now) break;
    plan.due.push(f);
    plan.servedUntil = next;
  }
  return plan;
}

/** The fire times from `from` to `to` (both included), ignoring start and end; null when more than `cap`. */
export function fireTimesInRange(t: Timing, from: Date, to: Date, cap: number): FireTime[] | null {
  const out: FireTime[] = [];
  for (let next = t.cron.next(new Date(from.getTime() - 1)); next && next.getTime() <= to.getTime(); next = t.cron.next(next)) {
    if (out.length >= cap) return null;
    out.push({ fireAt: next, dueAt: next });
  }
  return out;
}
