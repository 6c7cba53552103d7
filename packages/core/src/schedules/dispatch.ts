import type { CoreContext } from "../context.js";
import { BUILTIN_LOCK_TTL_MS, defineCronJob, FREQUENT_JOB_HISTORY_KEEP, type CronJobDefinition } from "../cron/index.js";
import type { ScheduleRun } from "../db/index.js";
import { claimFires, type ClaimResult } from "./claim.js";
import { scheduleMetrics } from "./metrics.js";
import { recordOutcomes } from "./outcomes.js";
import { timingOf } from "./spec.js";
import { cancelEarlier, fireTimeKey, linkRuns, submitRun, type RunLink } from "./submit.js";
import { jitterOffsetMs, planFires } from "./timing.js";
import { SCHEDULED_TRIGGERS, type Actor, type RunTrigger, type ScheduleRecord } from "./types.js";

export const DISPATCH_JOB = "dispatch-schedules";

const DEFAULT_CONCURRENCY = 8;
/** Fire times one pass claims at most (run or recorded as missed); schedules beyond it are planned again next pass. */
const MAX_FIRES_PER_PASS = 2000;
/** A fire time handled later than this after it was due is labelled `catch_up`. */
const LATE_MS = 1000;
/** A manual or backfill run still pending after this lost its request (the replica died): the dispatcher finishes it. */
const ABANDONED_REQUEST_MS = 60_000;

export interface DispatchOptions extends Actor {
  /** Aborted when the dispatch job's lock is lost: the pass stops before the next schedule. */
  signal?: AbortSignal;
  /** Schedules whose tasks are submitted at the same time (default 8). */
  concurrency?: number;
}

export interface DispatchReport {
  schedules: number;
  submitted: number;
  skipped: number;
  buffered: number;
  missed: number;
  /** Pending runs of a replica that stopped before submitting, finished by this pass. */
  recovered: number;
  outcomes: number;
}

export async function loadSchedules(ctx: CoreContext, where: { id?: string; name?: string } = {}): Promise<ScheduleRecord[]> {
  const rows = await ctx.prisma.schedule.findMany({ where, include: { pool: { select: { name: true } } }, orderBy: { name: "asc" } });
  return rows.map(({ pool, ...s }) => ({ ...s, poolName: pool.name }));
}

/** What a pass needs of every schedule to plan it: all but the payload (up to 64 KiB each, read only when submitting). */
type ScheduleTiming = Omit<ScheduleRecord, "payload" | "poolName">;

function loadTimings(ctx: CoreContext): Promise<ScheduleTiming[]> {
  return ctx.prisma.schedule.findMany({ omit: { payload: true } });
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Whether a pending run was left by a dispatcher that is gone (an older lock holder, or an earlier life of this process). */
function abandoned(run: Pick<ScheduleRun, "trigger" | "fencingToken" | "claimedAt">, actor: Actor, now: Date): boolean {
  if (!SCHEDULED_TRIGGERS.includes(run.trigger as RunTrigger)) return now.getTime() - run.claimedAt.getTime() > ABANDONED_REQUEST_MS;
  if (run.fencingToken === null || actor.fencingToken === null) return true;
  return Number(run.fencingToken) < actor.fencingToken;
}

async function recover(ctx: CoreContext, scheduleId: string, run: ScheduleRun, now: Date, actor: Actor): Promise<void> {
  const [schedule] = await loadSchedules(ctx, { id: scheduleId });
  if (!schedule) return;
  const inWindow = now.getTime() - run.dueAt.getTime() <= schedule.catchupWindowSeconds * 1000;
  const submitted = async () => {
    const link = await submitRun(ctx, schedule, run);
    if (link) await linkRuns(ctx, [link]);
  };
  if (!SCHEDULED_TRIGGERS.includes(run.trigger as RunTrigger) || inWindow) return submitted();
  const task = await ctx.prisma.task.findUnique({ where: { poolId_idempotencyKey: { poolId: schedule.poolId, idempotencyKey: fireTimeKey(schedule.id, run.fireAt) } } });
  if (task) return submitted();
  // Decided now, by this replica: the row says so, as for any other missed fire time.
  await ctx.prisma.scheduleRun.updateMany({
    where: { id: run.id, status: "pending" },
    data: {
      status: "missed",
      replica: actor.replicaId,
      claimedAt: now,
      fencingToken: actor.fencingToken === null ? null : String(actor.fencingToken),
      note: `claimed by ${run.replica}, which stopped before submitting its task; found past the catch-up window`,
    },
  });
}

/**
 * One dispatch pass at `ctx.now()`: finishes runs abandoned by a replica that died, runs each
 * schedule's due fire times (catching up those missed within its window, recording older ones
 * as missed, applying the overlap policy), then follows submitted tasks to their end. Reads
 * every schedule from the database, so a change made through any replica counts at once.
 */
export async function dispatchSchedules(ctx: CoreContext, options: DispatchOptions): Promise<DispatchReport> {
  const actor: Actor = { replicaId: options.replicaId, fencingToken: options.fencingToken };
  const now = ctx.now();
  const report: DispatchReport = { schedules: 0, submitted: 0, skipped: 0, buffered: 0, missed: 0, recovered: 0, outcomes: 0 };
  const [schedules, open] = await Promise.all([loadTimings(ctx), ctx.prisma.scheduleRun.findMany({ where: { status: { in: ["pending", "buffered"] } } })]);
  const byId = new Map(schedules.map((s) => [s.id, s]));
  report.schedules = schedules.length;

  for (const run of open) {
    const schedule = byId.get(run.scheduleId);
    if (options.signal?.aborted || !schedule || run.status !== "pending" || !abandoned(run, actor, now)) continue;
    await recover(ctx, schedule.id, run, now, actor);
    report.recovered++;
  }

  const withBuffer = new Set(open.filter((r) => r.status === "buffered").map((r) => r.scheduleId));
  const work = schedules.flatMap((schedule) => {
    if (schedule.paused || (schedule.maxRuns !== null && schedule.runCount >= schedule.maxRuns)) return [];
    const plan = planFires(timingOf(schedule, jitterOffsetMs(schedule.id, schedule.jitterSeconds)), {
      servedUntil: schedule.servedUntil,
      now,
      catchupWindowMs: schedule.catchupWindowSeconds * 1000,
    });
    const moved = plan.servedUntil.getTime() !== schedule.servedUntil.getTime();
    return moved || withBuffer.has(schedule.id) ? [{ schedule, plan }] : [];
  });
  // The longest-waiting first, within the pass's budget.
  work.sort((a, b) => a.schedule.servedUntil.getTime() - b.schedule.servedUntil.getTime());
  let budget = MAX_FIRES_PER_PASS;
  const taken = work.filter(({ plan }) => {
    const size = plan.due.length + plan.missed.length;
    if (budget <= 0) return false;
    budget -= size;
    return true;
  });

  if (!options.signal?.aborted) {
    const claims = await claimFires(
      ctx,
      taken.map(({ schedule, plan }) => ({
        scheduleId: schedule.id,
        fires: plan.due.map((f) => ({ ...f, trigger: now.getTime() - f.dueAt.getTime() > LATE_MS ? ("catch_up" as const) : ("schedule" as const) })),
        missed: { fires: plan.missed, unlisted: plan.missedUnlisted, capped: plan.missedCapped },
        dispatch: { servedUntil: plan.servedUntil },
      })),
      actor,
      now,
    );
    claims.forEach((claim) => count(report, claim));
    // Earliest due first; each schedule's runs in order, schedules side by side.
    const ready = claims.filter((c) => c.schedule && (c.toSubmit.length || c.toCancel.length));
    ready.sort((a, b) => (a.toSubmit[0]?.dueAt.getTime() ?? 0) - (b.toSubmit[0]?.dueAt.getTime() ?? 0));
    const links: RunLink[] = [];
    await eachLimited(ready, options.concurrency ?? DEFAULT_CONCURRENCY, async (claim) => void links.push(...(await submitClaimed(ctx, claim))), options.signal);
    await linkRuns(ctx, links);
    const dueAt = new Map(ready.flatMap((c) => c.toSubmit.map((r) => [r.id, r.dueAt] as const)));
    for (const link of links) {
      const due = dueAt.get(link.runId);
      if (due) scheduleMetrics.fireDelay.observe(Math.max(0, link.submittedAt.getTime() - due.getTime()) / 1000);
    }
  }

  report.outcomes = await recordOutcomes(ctx);
  return report;
}

function count(report: DispatchReport, claim: ClaimResult): void {
  for (const run of claim.runs) {
    const status = run.status === "pending" ? "submitted" : run.status;
    if (status === "submitted" || status === "skipped" || status === "buffered" || status === "missed") {
      report[status]++;
      scheduleMetrics.runs.inc({ status });
    }
  }
}

/** After a claim: cancels what cancel_other displaced, then submits the claimed runs in fire-time order; their links are for the caller to write. */
async function submitClaimed(ctx: CoreContext, claim: ClaimResult): Promise<RunLink[]> {
  if (!claim.schedule) return [];
  await cancelEarlier(ctx, claim.toCancel);
  const links: RunLink[] = [];
  for (const run of claim.toSubmit) {
    const link = await submitRun(ctx, claim.schedule, run);
    if (link) links.push(link);
  }
  return links;
}

/** Carries a claim out completely: cancellations, submissions, links. */
export async function carryOut(ctx: CoreContext, claim: ClaimResult): Promise<void> {
  await linkRuns(ctx, await submitClaimed(ctx, claim));
}

/** The built-in cron job that dispatches every schedule, once per second, on one replica at a time. */
export function scheduleDispatchJob(ctx: CoreContext): CronJobDefinition {
  return defineCronJob({
    name: DISPATCH_JOB,
    schedule: "* * * * * *",
    lockTtl: BUILTIN_LOCK_TTL_MS,
    historyKeep: FREQUENT_JOB_HISTORY_KEEP,
    run: (job) => dispatchSchedules(ctx, { replicaId: job.replicaId, fencingToken: job.fencingToken, signal: job.signal }),
  });
}
