import type { CoreContext } from "../context.js";
import type { Prisma, ScheduleRun, ScheduleRunStatus } from "../db/index.js";
import { decideOverlap, type SchedulePolicy } from "./overlap.js";
import type { FireTime } from "./timing.js";
import { SCHEDULED_TRIGGERS, TERMINAL_TASK_STATUSES, type Actor, type RunTrigger, type ScheduleRecord } from "./types.js";

export interface ClaimRequest {
  scheduleId: string;
  fires: (FireTime & { trigger: RunTrigger })[];
  /** Fire times past the catch-up window, recorded as missed; `unlisted` older ones (at least, when `capped`) are counted on the oldest row. */
  missed?: { fires: FireTime[]; unlisted: number; capped?: boolean };
  /** The dispatcher: leaves a paused schedule alone, promotes a buffered run whose predecessor ended, and moves `servedUntil` here. */
  dispatch?: { servedUntil: Date };
  /** Overrides the schedule's overlap policy (a backfill may ask for another). */
  overlap?: SchedulePolicy;
}

export interface ClaimResult {
  scheduleId: string;
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
  scheduleId: string;
  status: ScheduleRunStatus;
  fireAt: Date;
  taskId: string | null;
  taskStatus: string | null;
}

type Row = Prisma.ScheduleRunCreateManyInput;

const isTerminal = (status: string | null) => status !== null && (TERMINAL_TASK_STATUSES as readonly string[]).includes(status);
const SUPERSEDED = "superseded by a later fire time before its task was submitted (cancel_other)";

/** What one schedule's part of a claim decided, before anything is written. */
interface Decisions {
  rows: Row[];
  existing: Date[];
  promote: string | null;
  supersede: string[];
  toCancel: string[];
  runCount: number;
  servedUntil: Date | null;
}

/**
 * The overlap decisions for one schedule's requested fire times, oldest first, given its open
 * runs (those still pending, buffered or with a live task) and the fire times already taken.
 * Pure.
 */
function decide(schedule: ScheduleRecord, request: ClaimRequest, open: OpenRun[], actor: Actor, now: Date): Decisions {
  const d: Decisions = { rows: [], existing: [], promote: null, supersede: [], toCancel: [], runCount: schedule.runCount, servedUntil: null };
  const taken = new Set(open.map((r) => r.fireAt.getTime()));
  // Runs whose task may still run: claimed and not yet submitted, or submitted and not ended.
  let active = open.filter((r) => r.status === "pending" || (r.status === "submitted" && r.taskId !== null && !isTerminal(r.taskStatus)));
  let buffered = open.find((r) => r.status === "buffered") ?? null;
  if (request.dispatch && buffered && active.length === 0) {
    d.promote = buffered.id;
    active = [{ ...buffered, status: "pending" }];
    buffered = null;
  }

  const base = (f: FireTime, trigger: RunTrigger): Row => ({
    scheduleId: schedule.id,
    fireAt: f.fireAt,
    dueAt: f.dueAt,
    trigger,
    status: "pending",
    replica: actor.replicaId,
    fencingToken: actor.fencingToken === null ? null : String(actor.fencingToken),
    claimedAt: now,
  });

  const missed = (request.missed?.fires ?? []).filter((f) => !taken.has(f.fireAt.getTime()));
  missed.forEach((f, i) => {
    const { unlisted: count, capped } = request.missed!;
    const unlisted = i === 0 && count > 0 ? `; ${capped ? "at least " : ""}${count} earlier fire time(s) of the same gap were missed too` : "";
    d.rows.push({ ...base(f, "schedule"), status: "missed", note: `no replica ran this fire time within the catch-up window of ${schedule.catchupWindowSeconds} s${unlisted}` });
  });

  const policy = request.overlap ?? (schedule.overlap as SchedulePolicy);
  let pendingHere: Row[] = [];
  for (const f of request.fires) {
    if (taken.has(f.fireAt.getTime())) {
      d.existing.push(f.fireAt);
      continue;
    }
    const scheduled = SCHEDULED_TRIGGERS.includes(f.trigger);
    // A buffered fire time will count once it is submitted.
    const waiting = buffered ? 1 : 0;
    if (scheduled && schedule.maxRuns !== null && d.runCount + waiting >= schedule.maxRuns) break;
    const row = base(f, f.trigger);
    const decision = decideOverlap(policy, { active: active.length + pendingHere.length, buffered: buffered !== null });
    if (decision.action === "skip") {
      row.status = "skipped";
      row.note = decision.reason;
    } else if (decision.action === "buffer") {
      row.status = "buffered";
      row.note = "waits for the previous task to end";
      buffered = { id: "", scheduleId: schedule.id, status: "buffered", fireAt: f.fireAt, taskId: null, taskStatus: null };
    } else {
      if (decision.cancelActive) {
        for (const earlier of pendingHere) Object.assign(earlier, { status: "skipped", note: SUPERSEDED });
        pendingHere = [];
        for (const run of active) {
          if (run.status === "pending") d.supersede.push(run.id);
          else if (run.taskId) d.toCancel.push(run.taskId);
        }
        if (d.promote && d.supersede.includes(d.promote)) d.promote = null;
        active = [];
      }
      pendingHere.push(row);
      if (scheduled) d.runCount++;
    }
    d.rows.push(row);
  }
  if (request.dispatch && request.dispatch.servedUntil > schedule.servedUntil) d.servedUntil = request.dispatch.servedUntil;
  return d;
}

/**
 * Decides, in one transaction, what each requested fire time of the given schedules does, and
 * writes one run row per fire time. Lock order: the Schedule rows first, by id (every writer of
 * a schedule's runs takes its row, so overlap decisions on one schedule are serial), then their
 * ScheduleRun rows; no Task row is locked here (tasks are cancelled and submitted after
 * commit). The (scheduleId, fireAt) unique key keeps any fire time from being claimed twice,
 * whatever happens to locks. A constant number of statements for any number of schedules.
 * `now` is when the decisions were made (a dispatch pass plans at its start): each row's claimedAt.
 */
export async function claimFires(ctx: CoreContext, requests: readonly ClaimRequest[], actor: Actor, now = ctx.now()): Promise<ClaimResult[]> {
  if (requests.length === 0) return [];
  const ids = [...new Set(requests.map((r) => r.scheduleId))].sort();
  return ctx.prisma.$transaction(async (tx) => {
    const schedules = await tx.$queryRaw<ScheduleRecord[]>`
      SELECT s.*, p.name AS "poolName" FROM "Schedule" s JOIN "Pool" p ON p.id = s."poolId"
      WHERE s.id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid) ORDER BY s.id FOR UPDATE OF s`;
    const byId = new Map(schedules.map((s) => [s.id, s]));
    const live = requests.filter((r) => {
      const s = byId.get(r.scheduleId);
      return s && !(r.dispatch && s.paused);
    });

    // Each schedule's open runs, and whatever already exists between its lowest and highest requested fire time.
    const ranges = live.map((r) => {
      const times = [...r.fires, ...(r.missed?.fires ?? [])].map((f) => f.fireAt.getTime());
      return { id: r.scheduleId, lo: new Date(times.length ? Math.min(...times) : 0).toISOString(), hi: new Date(times.length ? Math.max(...times) : 0).toISOString() };
    });
    const open = ranges.length
      ? await tx.$queryRaw<OpenRun[]>`
          SELECT r.id, r."scheduleId", r.status, r."fireAt", r."taskId", t.status::text AS "taskStatus"
          FROM jsonb_to_recordset(${JSON.stringify(ranges)}::jsonb) AS q(id uuid, lo timestamp(3), hi timestamp(3))
          JOIN "ScheduleRun" r ON r."scheduleId" = q.id
          LEFT JOIN "Task" t ON t.id = r."taskId"
          WHERE r.status IN ('pending', 'buffered') OR (r.status = 'submitted' AND r.outcome IS NULL) OR r."fireAt" BETWEEN q.lo AND q.hi`
      : [];

    const decisions = new Map(live.map((r) => [r.scheduleId, decide(byId.get(r.scheduleId)!, r, open.filter((o) => o.scheduleId === r.scheduleId), actor, now)]));
    const all = [...decisions.values()];

    const promoteIds = all.flatMap((d) => (d.promote ? [d.promote] : []));
    const promoted = promoteIds.length
      ? await tx.scheduleRun.updateManyAndReturn({
          where: { id: { in: promoteIds }, status: "buffered" },
          data: { status: "pending", claimedAt: now, replica: actor.replicaId, fencingToken: actor.fencingToken === null ? null : String(actor.fencingToken) },
        })
      : [];
    const supersede = all.flatMap((d) => d.supersede);
    if (supersede.length) {
      await tx.scheduleRun.updateMany({ where: { id: { in: supersede }, status: { in: ["pending", "buffered"] } }, data: { status: "skipped", note: SUPERSEDED } });
    }
    const rows = all.flatMap((d) => d.rows);
    const written = rows.length ? await tx.scheduleRun.createManyAndReturn({ data: rows, skipDuplicates: true }) : [];
    written.sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime());

    const changed = live.flatMap((r) => {
      const d = decisions.get(r.scheduleId)!;
      const before = byId.get(r.scheduleId)!;
      // A promoted buffered fire time of the schedule counts toward maxRuns when it is submitted.
      const promotedScheduled = promoted.some((p) => p.scheduleId === r.scheduleId && SCHEDULED_TRIGGERS.includes(p.trigger as RunTrigger)) ? 1 : 0;
      d.runCount += promotedScheduled;
      return d.servedUntil || d.runCount !== before.runCount ? [{ id: r.scheduleId, servedUntil: (d.servedUntil ?? before.servedUntil).toISOString(), runCount: d.runCount }] : [];
    });
    if (changed.length) {
      await tx.$executeRaw`
        UPDATE "Schedule" s SET "servedUntil" = GREATEST(s."servedUntil", q."servedUntil"), "runCount" = q."runCount"
        FROM jsonb_to_recordset(${JSON.stringify(changed)}::jsonb) AS q(id uuid, "servedUntil" timestamp(3), "runCount" int)
        WHERE s.id = q.id`;
    }

    return requests.map((r) => {
      const schedule = byId.get(r.scheduleId) ?? null;
      const d = decisions.get(r.scheduleId);
      if (!schedule || !d) return { scheduleId: r.scheduleId, schedule: null, runs: [], existing: [], toSubmit: [], toCancel: [] };
      const runs = written.filter((w) => w.scheduleId === r.scheduleId);
      const toSubmit = [...promoted.filter((p) => p.scheduleId === r.scheduleId), ...runs.filter((w) => w.status === "pending")];
      return { scheduleId: r.scheduleId, schedule: { ...schedule, runCount: d.runCount }, runs, existing: d.existing, toSubmit, toCancel: d.toCancel };
    });
  });
}
