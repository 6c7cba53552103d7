import type { ScheduleRun, Task } from "@berth/core/db";
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  getSchedule,
  InvalidScheduleError,
  latestRuns,
  listScheduleRuns,
  listSchedules,
  nextFireTimes,
  pauseSchedule,
  previewSchedule,
  resumeSchedule,
  runCursor,
  ScheduleNotFoundError,
  triggerSchedule,
  updateSchedule,
  type Actor,
  type BackfillResult,
  type ScheduleRecord,
} from "@berth/core/schedules";
import { tasksByIds } from "@berth/core/tasks";
import { builder } from "../builder.js";
import type { BerthContext } from "../context.js";
import { TaskRef } from "./tasks.js";

const actorOf = (ctx: BerthContext): Actor => ({ replicaId: ctx.services.config.cluster.replicaId, fencingToken: null });

export const ScheduleRunRef = builder.objectRef<ScheduleRun>("ScheduleRun").implement({
  description: "One fire time of a schedule: what was done with it, the task it submitted and how that task ended.",
  fields: (t) => ({
    id: t.exposeID("id"),
    fireAt: t.expose("fireAt", { type: "DateTime", description: "The nominal fire time (the request time of a manual run)." }),
    dueAt: t.expose("dueAt", { type: "DateTime", description: "fireAt plus the schedule's jitter: when the task was meant to be submitted." }),
    trigger: t.exposeString("trigger", { description: "schedule, catch_up (run late, within the catch-up window), manual or backfill." }),
    status: t.exposeString("status", { description: "pending, submitted, buffered, skipped, missed or failed (the submission was refused; see note)." }),
    outcome: t.exposeString("outcome", { nullable: true, description: "The task's final status once it has one: succeeded, failed, cancelled or expired." }),
    note: t.exposeString("note", { nullable: true, description: "Why it was skipped, missed or failed." }),
    replica: t.exposeString("replica", { description: "The replica that decided what to do with this fire time." }),
    claimedAt: t.expose("claimedAt", { type: "DateTime" }),
    submittedAt: t.expose("submittedAt", { type: "DateTime", nullable: true }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    submitDelayMs: t.int({
      nullable: true,
      description: "From dueAt to the task's submission.",
      resolve: (run) => (run.submittedAt ? Math.max(0, run.submittedAt.getTime() - run.dueAt.getTime()) : null),
    }),
    taskId: t.id({ nullable: true, resolve: (run) => run.taskId }),
    task: t.loadable({
      type: TaskRef,
      nullable: true,
      description: "The task this fire time submitted, while it exists.",
      load: async (ids: string[], ctx) => {
        const tasks = await tasksByIds(ctx.services.core, ids);
        return ids.map((id) => tasks.get(id) ?? null) as (Task | null)[];
      },
      resolve: (run) => run.taskId,
    }),
  }),
});

const ScheduleRef = builder.objectRef<ScheduleRecord>("Schedule").implement({
  description: "A cron schedule that submits a task to a pool at each fire time, on exactly one replica.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    cron: t.exposeString("cron", { description: "5 fields, or 6 with seconds first; nicknames such as @daily work too." }),
    timeZone: t.exposeString("timeZone", { description: "IANA time zone the expression is read in." }),
    pool: t.string({ resolve: (s) => s.poolName }),
    taskType: t.exposeString("taskType"),
    payload: t.expose("payload", { type: "JSON" }),
    concurrencyKey: t.exposeString("concurrencyKey", { nullable: true }),
    timeoutSeconds: t.exposeInt("timeoutSeconds", { nullable: true, description: "Deadline of each task it submits." }),
    overlap: t.exposeString("overlap", { description: "What a fire time does while the previous task is active: skip, buffer_one, allow_all or cancel_other." }),
    catchupWindowSeconds: t.exposeInt("catchupWindowSeconds", {
      description: "Fire times missed while no replica ran are run late if at most this old, else recorded as missed.",
    }),
    jitterSeconds: t.exposeInt("jitterSeconds", { description: "Each fire time is due a fixed 0..jitterSeconds later, derived from the schedule's id." }),
    startAt: t.expose("startAt", { type: "DateTime", nullable: true }),
    endAt: t.expose("endAt", { type: "DateTime", nullable: true }),
    maxRuns: t.exposeInt("maxRuns", { nullable: true, description: "Scheduled fire times that may submit a task; manual runs and backfills do not count." }),
    runCount: t.exposeInt("runCount"),
    pauseAfterFailures: t.exposeInt("pauseAfterFailures", { nullable: true }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", { description: "Tasks that failed or expired in a row (a cancelled one does not count)." }),
    paused: t.exposeBoolean("paused"),
    pausedBy: t.exposeString("pausedBy", { nullable: true, description: "The token that paused it, or berth when it paused itself after failures." }),
    pauseNote: t.exposeString("pauseNote", { nullable: true }),
    pausedAt: t.expose("pausedAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    nextFireTimes: t.field({
      type: ["DateTime"],
      description: "When the next tasks will be submitted (jitter included); empty while paused or once maxRuns is reached.",
      args: { count: t.arg.int({ defaultValue: 5 }) },
      complexity: (args) => ({ field: 1, multiplier: Math.min(Math.max(args.count ?? 5, 1), 100) / 10 }),
      resolve: (s, args, ctx) => nextFireTimes(s, ctx.services.core.now(), args.count ?? 5).map((f) => f.dueAt),
    }),
    lastRun: t.loadable({
      type: ScheduleRunRef,
      nullable: true,
      load: async (ids: string[], ctx) => {
        const runs = await latestRuns(ctx.services.core, ids);
        return ids.map((id) => runs.get(id) ?? null);
      },
      resolve: (s) => s.id,
    }),
  }),
});

const BackfillRef = builder.objectRef<BackfillResult>("ScheduleBackfill").implement({
  fields: (t) => ({
    fireTimes: t.exposeInt("fireTimes", { description: "Fire times in the range." }),
    submitted: t.exposeInt("submitted"),
    buffered: t.exposeInt("buffered"),
    skipped: t.exposeInt("skipped"),
    alreadyRecorded: t.exposeInt("alreadyRecorded", { description: "Fire times that already had a run; left as they were." }),
    runs: t.field({ type: [ScheduleRunRef], resolve: (r) => r.runs }),
  }),
});

function scheduleInput(name: string, required: boolean, description: string) {
  return builder.inputType(name, {
    description,
    fields: (t) => ({
      name: t.string({ required, description: "1-64 letters, digits, '.', '_' or '-'." }),
      cron: t.string({ required, description: "5 fields, or 6 with seconds first; nicknames such as @daily work too." }),
      timeZone: t.string({ description: "IANA time zone (default UTC)." }),
      pool: t.string({ required }),
      taskType: t.string({ required, description: "The type of each task (1-64 of letters, digits, _ . : -)." }),
      payload: t.field({ type: "JSON", description: "The payload of each task (up to 64 KiB of JSON)." }),
      concurrencyKey: t.string({ description: "Passed to each task: tasks sharing a key do not run at the same time." }),
      timeoutSeconds: t.int({ description: "Deadline of each task, 1 s to 7 days." }),
      overlap: t.string({ description: "skip (default), buffer_one, allow_all or cancel_other." }),
      catchupWindowSeconds: t.int({ description: "1 s to 7 days (default 60)." }),
      jitterSeconds: t.int({ description: "0 (default) to 3600." }),
      startAt: t.field({ type: "DateTime", description: "No fire time before this." }),
      endAt: t.field({ type: "DateTime", description: "No fire time after this." }),
      maxRuns: t.int({ description: "Stop after this many scheduled tasks." }),
      pauseAfterFailures: t.int({ description: "Pause after this many failed tasks in a row (1-1000)." }),
    }),
  });
}

const CreateScheduleInput = scheduleInput("CreateScheduleInput", true, "A new schedule.");
const UpdateScheduleInput = scheduleInput("UpdateScheduleInput", false, "Fields to change; a field left out keeps its value, null clears an optional one.");

const definedOnly = <T extends object>(input: T) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;

builder.queryFields((t) => ({
  schedules: t.field({
    type: [ScheduleRef],
    description: "Every schedule, by name. Berth's own jobs are code-defined cron jobs: see cronJobs.",
    // Costs by the schedules it returns, as last counted (see policy/list-sizes.ts).
    complexity: (_args, ctx) => ({ field: 2, multiplier: Math.max(ctx.services.listSizes.schedules, 10) }),
    resolve: (_r, _a, ctx) => listSchedules(ctx.services.core),
  }),
  schedule: t.field({
    type: ScheduleRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) =>
      getSchedule(ctx.services.core, args.name).catch((error: unknown) => {
        if (error instanceof ScheduleNotFoundError) return null;
        throw error;
      }),
  }),
  scheduleRuns: t.connection(
    {
      type: ScheduleRunRef,
      description: "A schedule's runs, newest fire time first; page forward with first/after.",
      args: { schedule: t.arg.string({ required: true }) },
      complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 20, 200) / 10 }),
      resolve: async (_r, args, ctx) => {
        if (args.last != null || args.before != null) throw new InvalidScheduleError("first", "page forward with first and after; last and before are not supported");
        const page = await listScheduleRuns(ctx.services.core, { schedule: args.schedule, first: args.first ?? 20, after: args.after });
        return {
          edges: page.runs.map((run) => ({ cursor: runCursor(run), node: run })),
          pageInfo: { hasNextPage: page.pageInfo.hasNextPage, hasPreviousPage: false, startCursor: page.pageInfo.startCursor, endCursor: page.pageInfo.endCursor },
        };
      },
    },
    { name: "ScheduleRunConnection" },
    { name: "ScheduleRunEdge" },
  ),
  schedulePreview: t.field({
    type: ["DateTime"],
    errors: {},
    description: "The next fire times of an expression before it is saved, in the given zone; a bad expression, zone or window is a ValidationError naming the field.",
    args: {
      cron: t.arg.string({ required: true }),
      timeZone: t.arg.string(),
      startAt: t.arg({ type: "DateTime" }),
      endAt: t.arg({ type: "DateTime" }),
      count: t.arg.int({ defaultValue: 5 }),
    },
    resolve: (_r, args, ctx) => previewSchedule(args, ctx.services.core.now()).map((f) => f.fireAt),
  }),
}));

builder.mutationFields((t) => ({
  createSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    description: "Creates a schedule; it fires from the next fire time on, on whichever replica dispatches.",
    args: { input: t.arg({ type: CreateScheduleInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      createSchedule(ctx.services.core, { ...definedOnly(input), name: input.name!, cron: input.cron!, pool: input.pool!, taskType: input.taskType! }),
  }),
  updateSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    description: "Changes a schedule; every replica uses the change from its next dispatch pass. A new expression, zone, jitter or start counts from now.",
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateScheduleInput, required: true }) },
    resolve: (_r, args, ctx) => updateSchedule(ctx.services.core, args.name, definedOnly(args.input) as Parameters<typeof updateSchedule>[2]),
  }),
  deleteSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    description: "Deletes a schedule and its run history; the tasks it submitted stay.",
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => deleteSchedule(ctx.services.core, args.name),
  }),
  pauseSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    description: "Stops it firing; the note says why, and the schedule records who paused it and when.",
    args: { name: t.arg.string({ required: true }), note: t.arg.string() },
    resolve: (_r, args, ctx) => pauseSchedule(ctx.services.core, args.name, { who: ctx.auth?.name ?? "unknown", note: args.note }),
  }),
  resumeSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    description: "Fires again from the next fire time; those that passed while paused are not run.",
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => resumeSchedule(ctx.services.core, args.name),
  }),
  triggerSchedule: t.field({
    type: ScheduleRunRef,
    errors: {},
    description: "Runs it once now, paused or not, with its overlap policy: the run is submitted, buffered or skipped.",
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => triggerSchedule(ctx.services.core, args.name, actorOf(ctx)),
  }),
  backfillSchedule: t.field({
    type: BackfillRef,
    errors: {},
    description: "Runs the fire times from `from` to `to` (both included, up to 1000, in the past) now, oldest first, each at most once ever, with the schedule's overlap policy or `overlap`.",
    args: { name: t.arg.string({ required: true }), from: t.arg({ type: "DateTime", required: true }), to: t.arg({ type: "DateTime", required: true }), overlap: t.arg.string() },
    resolve: (_r, args, ctx) => backfillSchedule(ctx.services.core, args.name, { from: args.from, to: args.to, overlap: args.overlap }, actorOf(ctx)),
  }),
}));
