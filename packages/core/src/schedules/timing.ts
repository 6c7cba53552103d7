import type { CronSchedule } from "../cron/index.js";

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

/** Fire times listed one by one as missed per pass; older ones in the same gap are only counted. */
export const MAX_MISSED_LISTED = 100;
/** Fire times run per schedule per pass; the rest wait for the next pass (one second later). */
export const MAX_DUE_PER_PASS = 100;
/** Fire times looked at per schedule per pass, so that a long outage is worked off in bounded steps. */
export const MAX_WALK_PER_PASS = 20_000;

export interface FirePlan {
  /** Older than the catch-up window: to record as missed, oldest first (the newest MAX_MISSED_LISTED). */
  missed: FireTime[];
  /** Missed fire times older than the listed ones. */
  missedUnlisted: number;
  /** Within the catch-up window: to run now, oldest first. */
  due: FireTime[];
  /** The last fire time this plan covers: the schedule's new `servedUntil` once carried out. */
  servedUntil: Date;
}

/**
 * What a dispatch pass at `now` does with the fire times after `servedUntil`: each one due by
 * now is either run (due within the catch-up window) or recorded as missed (older). Pure.
 */
export function planFires(t: Timing, input: { servedUntil: Date; now: Date; catchupWindowMs: number }): FirePlan {
  const plan: FirePlan = { missed: [], missedUnlisted: 0, due: [], servedUntil: input.servedUntil };
  const now = input.now.getTime();
  for (let walked = 0; walked < MAX_WALK_PER_PASS && plan.due.length < MAX_DUE_PER_PASS; walked++) {
    const next = nextFireTime(t, plan.servedUntil);
    if (!next) break;
    const f = fire(t, next);
    if (f.dueAt.getTime() > now) break;
    if (now - f.dueAt.getTime() > input.catchupWindowMs) {
      plan.missed.push(f);
      if (plan.missed.length > MAX_MISSED_LISTED) {
        plan.missed.shift();
        plan.missedUnlisted++;
      }
    } else {
      plan.due.push(f);
    }
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
