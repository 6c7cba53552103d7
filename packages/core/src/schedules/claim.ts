import type { CoreContext } from "../context.js";
import type { Prisma, ScheduleRun, ScheduleRunStatus } from "../db/index.js";
import { decideOverlap, type SchedulePolicy } from "./overlap.js";
import type { FireTime } from "./timing.js";
import { SCHEDULED_TRIGGERS, TERMINAL_TASK_STATUSES, type Actor, type RunTrigger, type ScheduleRecord } from "./types.js";

export interface ClaimRequest {
  fires: (FireTime & { trigger: RunTrigger })[];
  /** Fire times past the catch-up window, recorded as missed; `unlisted` older ones are counted on the oldest row. */
  missed?: { fires: FireTime[]; unlisted: number };
  /** The dispatcher: leaves a paused schedule alone, promotes a buffered run whose predecessor ended, and moves `servedUntil` here. */
  dispatch?: { servedUntil: Date };
  /** Overrides the schedule's overlap policy (a backfill may ask for another). */
  overlap?: SchedulePolicy;
}

export interface ClaimResult {
  /** Null when the schedule is gone, or paused and this is the dispatcher. */
  schedule: ScheduleRecord | null;
  /** Rows this claim wrote, oldest fire time first. */
  runs: ScheduleRun[];
  /** Fire times asked for that already had a row: somebody dealt with them before. */
  existing: Date[];
  /** Pending runs to submit now, in order (a promoted buffered run first). */
  toSubmit: ScheduleRun[];
  /** Tasks of earlier runs to cancel before submitting (`cancel_other`). */
  toCancel: string[];
}

interface OpenRun {
  id: string;
  status: ScheduleRunStatus;
  fireAt: Date;
  taskId: string | null;
  taskStatus: string | null;
}

const isTerminal = (status: string | null) => status !== null && (TERMINAL_TASK_STATUSES as readonly string[]).includes(status);

/**
 * Decides, in one transaction, what each requested fire time of one schedule does, and writes
 * one run row per fire time. Lock order: the Schedule row first (every writer of a schedule's
 * runs takes it, so their overlap decisions are serial), then its ScheduleRun rows; no Task row
 * is locked here (tasks are cancelled and submitted after commit). The (scheduleId, fireAt)
 * unique key keeps any fire time from being claimed twice, whatever happens to locks.
 */
export async function claimFires(ctx: CoreContext, scheduleId: string, request: ClaimRequest, actor: Actor): Promise<ClaimResult> {
  const now = ctx.now();
  return ctx.prisma.$transaction(async (tx) => {
    const [schedule] = await tx.$queryRaw<ScheduleRecord[]>`
      SELECT s.*, p.name AS "poolName" FROM "Schedule" s JOIN "Pool" p ON p.id = s."poolId"
      WHERE s.id = ${scheduleId}::uuid FOR UPDATE OF s`;
    const empty: ClaimResult = { schedule: schedule ?? null, runs: [], existing: [], toSubmit: [], toCancel: [] };
    if (!schedule) return empty;
    if (request.dispatch && schedule.paused) return { ...empty, schedule: null };

    const asked = [...request.fires, ...(request.missed?.fires ?? [])].map((f) => f.fireAt.getTime());
    const lowest = new Date(asked.length ? Math.min(...asked) : 0);
    const highest = new Date(asked.length ? Math.max(...asked) : 0);
    const rows = await tx.$queryRaw<OpenRun[]>`
      SELECT r.id, r.status, r."fireAt", r."taskId", t.status::text AS "taskStatus"
      FROM "ScheduleRun" r LEFT JOIN "Task" t ON t.id = r."taskId"
      WHERE r."scheduleId" = ${scheduleId}::uuid
        AND (r.status IN ('pending', 'buffered') OR (r.status = 'submitted' AND r.outcome IS NULL) OR r."fireAt" BETWEEN ${lowest} AND ${highest})`;
    const taken = new Set(rows.map((r) => r.fireAt.getTime()));
    // Runs whose task may still run: claimed and not yet submitted, or submitted and not ended.
    let active = rows.filter((r) => r.status === "pending" || (r.status === "submitted" && r.taskId !== null && !isTerminal(r.taskStatus)));
    let buffered = rows.find((r) => r.status === "buffered") ?? null;

    const toSubmit: ScheduleRun[] = [];
    const toCancel: string[] = [];
    if (request.dispatch && buffered && active.length === 0) {
      const promoted = await tx.scheduleRun.update({
        where: { id: buffered.id },
        data: { status: "pending", claimedAt: now, replica: actor.replicaId, fencingToken: tokenText(actor) },
      });
      toSubmit.push(promoted);
      active = [{ ...buffered, status: "pending" }];
      buffered = null;
    }

    type Row = Prisma.ScheduleRunCreateManyInput;
    const rowsToWrite: Row[] = [];
    const base = (f: FireTime, trigger: RunTrigger): Row => ({
      scheduleId,
      fireAt: f.fireAt,
      dueAt: f.dueAt,
      trigger,
      status: "pending",
      replica: actor.replicaId,
      fencingToken: tokenText(actor),
      claimedAt: now,
    });

    const existing: Date[] = [];
    const missed = (request.missed?.fires ?? []).filter((f) => !taken.has(f.fireAt.getTime()));
    missed.forEach((f, i) => {
      const unlisted = i === 0 && request.missed!.unlisted > 0 ? `; ${request.missed!.unlisted} earlier fire time(s) of the same gap were missed too` : "";
      rowsToWrite.push({ ...base(f, "schedule"), status: "missed", note: `no replica ran this fire time within the catch-up window of ${schedule.catchupWindowSeconds} s${unlisted}` });
    });

    const policy = request.overlap ?? (schedule.overlap as SchedulePolicy);
    let runCount = schedule.runCount;
    // Rows of this claim that would be submitted, by fire time: a later cancel_other supersedes them before they exist.
    const pendingHere = new Map<number, Row>();
    for (const f of request.fires) {
      if (taken.has(f.fireAt.getTime())) {
        existing.push(f.fireAt);
        continue;
      }
      const scheduled = SCHEDULED_TRIGGERS.includes(f.trigger);
      if (scheduled && schedule.maxRuns !== null && runCount >= schedule.maxRuns) break;
      const row = base(f, f.trigger);
      const decision = decideOverlap(policy, { active: active.length + pendingHere.size, buffered: buffered !== null });
      if (decision.action === "skip") {
        row.status = "skipped";
        row.note = decision.reason;
      } else if (decision.action === "buffer") {
        row.status = "buffered";
        row.note = "waits for the previous task to end";
        buffered = { id: "", status: "buffered", fireAt: f.fireAt, taskId: null, taskStatus: null };
      } else {
        if (decision.cancelActive) {
          const supersede = `superseded by the fire time of ${f.fireAt.toISOString()} before its task was submitted`;
          for (const earlier of pendingHere.values()) {
            earlier.status = "skipped";
            earlier.note = supersede;
          }
          pendingHere.clear();
          for (const run of active) {
            if (run.status === "pending") {
              await tx.scheduleRun.updateMany({ where: { id: run.id, status: "pending" }, data: { status: "skipped", note: supersede } });
              const promotedHere = toSubmit.findIndex((r) => r.id === run.id);
              if (promotedHere >= 0) toSubmit.splice(promotedHere, 1);
            } else if (run.taskId) {
              toCancel.push(run.taskId);
            }
          }
          active = [];
        }
        pendingHere.set(f.fireAt.getTime(), row);
        if (scheduled) runCount++;
      }
      rowsToWrite.push(row);
    }

    rowsToWrite.sort((a, b) => new Date(a.fireAt).getTime() - new Date(b.fireAt).getTime());
    const runs = rowsToWrite.length ? await tx.scheduleRun.createManyAndReturn({ data: rowsToWrite, skipDuplicates: true }) : [];
    runs.sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime());
    toSubmit.push(...runs.filter((r) => r.status === "pending"));

    const servedUntil = request.dispatch && request.dispatch.servedUntil > schedule.servedUntil ? request.dispatch.servedUntil : null;
    if (servedUntil || runCount !== schedule.runCount) {
      await tx.schedule.update({ where: { id: scheduleId }, data: { ...(servedUntil && { servedUntil }), runCount } });
    }
    return { schedule: { ...schedule, runCount, ...(servedUntil && { servedUntil }) }, runs, existing, toSubmit, toCancel };
  });
}

const tokenText = (actor: Actor) => (actor.fencingToken === null ? null : String(actor.fencingToken));
