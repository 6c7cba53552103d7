import type { CoreContext } from "../context.js";
import type { Prisma, ScheduleRun } from "../db/index.js";
import { claimFires } from "./claim.js";
import { carryOut, loadSchedules } from "./dispatch.js";
import { InvalidScheduleError, ScheduleNameTakenError, ScheduleNotFoundError, TooManySchedulesError } from "./errors.js";
import { isOverlapPolicy, OVERLAP_POLICIES, type SchedulePolicy } from "./overlap.js";
import { checkDate, checkNote, checkScheduleSpec, timingOf, type ScheduleInput, type ScheduleSpec } from "./spec.js";
import { fireTimesInRange, jitterOffsetMs, upcomingFireTimes, type FireTime } from "./timing.js";
import type { Actor, ScheduleRecord } from "./types.js";

/** Schedules Berth keeps at most (each is looked at every second). */
export const MAX_SCHEDULES = 1000;
/** Fire times one backfill may cover. */
export const MAX_BACKFILL = 1000;

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

async function poolIdOf(ctx: CoreContext, pool: string): Promise<string> {
  const row = await ctx.prisma.pool.findUnique({ where: { name: pool }, select: { id: true } });
  if (!row) throw new InvalidScheduleError("pool", `unknown pool ${JSON.stringify(pool)}`);
  return row.id;
}

function columns(spec: ScheduleSpec, poolId: string) {
  const { pool: _pool, payload, ...rest } = spec;
  return { ...rest, poolId, payload: payload as Prisma.InputJsonValue };
}

export async function getSchedule(ctx: CoreContext, name: string): Promise<ScheduleRecord> {
  const [schedule] = await loadSchedules(ctx, { name });
  if (!schedule) throw new ScheduleNotFoundError(name);
  return schedule;
}

export function listSchedules(ctx: CoreContext): Promise<ScheduleRecord[]> {
  return loadSchedules(ctx);
}

export function countSchedules(ctx: CoreContext): Promise<number> {
  return ctx.prisma.schedule.count();
}

/** Creates a schedule; its first fire time is the first one after now. Bad input changes nothing. */
export async function createSchedule(ctx: CoreContext, input: ScheduleInput): Promise<ScheduleRecord> {
  const now = ctx.now();
  const spec = checkScheduleSpec(input, now);
  const poolId = await poolIdOf(ctx, spec.pool);
  if ((await ctx.prisma.schedule.count()) >= MAX_SCHEDULES) throw new TooManySchedulesError(MAX_SCHEDULES);
  try {
    await ctx.prisma.schedule.create({ data: { ...columns(spec, poolId), servedUntil: now, createdAt: now, updatedAt: now } });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ScheduleNameTakenError(spec.name);
    throw error;
  }
  return getSchedule(ctx, spec.name);
}

const timingChanged = (before: ScheduleRecord, after: ScheduleSpec) =>
  before.cron !== after.cron || before.timeZone !== after.timeZone || before.jitterSeconds !== after.jitterSeconds || before.startAt?.getTime() !== after.startAt?.getTime();

/**
 * Changes a schedule: fields left out keep their value, `null` clears an optional one. A change
 * of expression, zone, jitter or start counts from now: fire times before it are not caught up.
 */
export async function updateSchedule(ctx: CoreContext, name: string, patch: Partial<ScheduleInput>): Promise<ScheduleRecord> {
  const now = ctx.now();
  const current = await getSchedule(ctx, name);
  const merged: ScheduleInput = { ...current, pool: current.poolName, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  const spec = checkScheduleSpec(merged, now);
  const poolId = spec.pool === current.poolName ? current.poolId : await poolIdOf(ctx, spec.pool);
  try {
    const { count } = await ctx.prisma.schedule.updateMany({
      where: { id: current.id },
      data: { ...columns(spec, poolId), updatedAt: now, ...(timingChanged(current, spec) && { servedUntil: now }) },
    });
    if (count === 0) throw new ScheduleNotFoundError(name);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ScheduleNameTakenError(spec.name);
    throw error;
  }
  return getSchedule(ctx, spec.name);
}

/** Deletes a schedule and its run history; the tasks it submitted stay. */
export async function deleteSchedule(ctx: CoreContext, name: string): Promise<ScheduleRecord> {
  const schedule = await getSchedule(ctx, name);
  const { count } = await ctx.prisma.schedule.deleteMany({ where: { id: schedule.id } });
  if (count === 0) throw new ScheduleNotFoundError(name);
  return schedule;
}

/** Stops firing, with who paused it and why. Pausing a paused schedule replaces the note. */
export async function pauseSchedule(ctx: CoreContext, name: string, by: { who: string; note?: string | null }): Promise<ScheduleRecord> {
  const note = checkNote(by.note);
  const { count } = await ctx.prisma.schedule.updateMany({ where: { name }, data: { paused: true, pausedBy: by.who.slice(0, 100), pauseNote: note, pausedAt: ctx.now(), updatedAt: ctx.now() } });
  if (count === 0) throw new ScheduleNotFoundError(name);
  return getSchedule(ctx, name);
}

/** Fires again from now on: fire times that passed while it was paused are not run, and its failure count starts over. */
export async function resumeSchedule(ctx: CoreContext, name: string): Promise<ScheduleRecord> {
  const now = ctx.now();
  const current = await getSchedule(ctx, name);
  const { count } = await ctx.prisma.schedule.updateMany({
    where: { id: current.id },
    data: { paused: false, pausedBy: null, pauseNote: null, pausedAt: null, consecutiveFailures: 0, updatedAt: now, ...(current.paused && { servedUntil: now }) },
  });
  if (count === 0) throw new ScheduleNotFoundError(name);
  return getSchedule(ctx, name);
}

/** Runs the schedule once now (paused or not), with its overlap policy; returns the run, submitted, buffered or skipped. */
export async function triggerSchedule(ctx: CoreContext, name: string, actor: Actor): Promise<ScheduleRun> {
  const schedule = await getSchedule(ctx, name);
  // Cron fire times fall on whole seconds; a manual run never does, so it never takes one's place.
  const now = ctx.now();
  const at = now.getMilliseconds() === 0 ? new Date(now.getTime() + 1) : now;
  const [claim] = await claimFires(ctx, [{ scheduleId: schedule.id, fires: [{ fireAt: at, dueAt: at, trigger: "manual" }] }], actor);
  if (!claim?.schedule) throw new ScheduleNotFoundError(name);
  await carryOut(ctx, claim);
  // Two requests in the same millisecond share one run: the second finds the first's row.
  return ctx.prisma.scheduleRun.findUniqueOrThrow({ where: { scheduleId_fireAt: { scheduleId: schedule.id, fireAt: at } } });
}

export interface BackfillResult {
  /** Fire times in the range. */
  fireTimes: number;
  submitted: number;
  buffered: number;
  skipped: number;
  /** Fire times that already had a run (scheduled, caught up, missed or an earlier backfill): left as they were. */
  alreadyRecorded: number;
  runs: ScheduleRun[];
}

/**
 * Runs the fire times of a past range now, oldest first, each at most once ever, with the
 * schedule's overlap policy or `overlap`. The range ignores the schedule's start and end.
 */
export async function backfillSchedule(ctx: CoreContext, name: string, range: { from: Date; to: Date; overlap?: string | null }, actor: Actor): Promise<BackfillResult> {
  const now = ctx.now();
  const from = checkDate("from", range.from)!;
  const to = checkDate("to", range.to)!;
  if (to.getTime() <= from.getTime()) throw new InvalidScheduleError("to", "to must be after from");
  if (to.getTime() > now.getTime()) throw new InvalidScheduleError("to", "a backfill covers past fire times: to must not be in the future");
  if (range.overlap != null && !isOverlapPolicy(range.overlap)) throw new InvalidScheduleError("overlap", `overlap must be one of ${OVERLAP_POLICIES.join(", ")}`);
  const schedule = await getSchedule(ctx, name);
  const fires = fireTimesInRange(timingOf({ ...schedule, startAt: null, endAt: null }), from, to, MAX_BACKFILL);
  if (fires === null) throw new InvalidScheduleError("from", `the range holds more than ${MAX_BACKFILL} fire times; backfill it in parts`);
  if (fires.length === 0) throw new InvalidScheduleError("from", `no fire time of ${JSON.stringify(schedule.cron)} in ${schedule.timeZone} lies between ${from.toISOString()} and ${to.toISOString()}`);
  const [claim] = await claimFires(
    ctx,
    [{ scheduleId: schedule.id, fires: fires.map((f) => ({ ...f, trigger: "backfill" as const })), overlap: (range.overlap as SchedulePolicy | null) ?? undefined }],
    actor,
  );
  if (!claim?.schedule) throw new ScheduleNotFoundError(name);
  await carryOut(ctx, claim);
  const tally = (status: string) => claim.runs.filter((r) => r.status === status).length;
  const runs = await ctx.prisma.scheduleRun.findMany({ where: { id: { in: claim.runs.map((r) => r.id) } }, orderBy: { fireAt: "asc" } });
  return { fireTimes: fires.length, submitted: tally("pending"), buffered: tally("buffered"), skipped: tally("skipped"), alreadyRecorded: claim.existing.length, runs };
}

/** The next `count` times the schedule will submit a task (jitter included); none while paused or once its run limit is reached. */
export function nextFireTimes(schedule: ScheduleRecord, now: Date, count = 5): FireTime[] {
  if (schedule.paused) return [];
  const remaining = schedule.maxRuns === null ? Number.POSITIVE_INFINITY : schedule.maxRuns - schedule.runCount;
  return upcomingFireTimes(timingOf(schedule, jitterOffsetMs(schedule.id, schedule.jitterSeconds)), now, Math.min(Math.max(count, 0), 100), remaining);
}

/** For a form: the next fire times of an expression not stored yet; errors name the field at fault. */
export function previewSchedule(input: { cron: string; timeZone?: string | null; startAt?: Date | null; endAt?: Date | null; count?: number | null }, now: Date): FireTime[] {
  const count = input.count ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new InvalidScheduleError("count", "count must be a whole number from 1 to 100");
  const spec = checkScheduleSpec({ name: "preview", cron: input.cron, timeZone: input.timeZone, startAt: input.startAt, endAt: input.endAt, pool: "preview", taskType: "preview" }, now);
  return upcomingFireTimes(timingOf(spec), now, count);
}
