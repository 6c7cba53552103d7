import { withResync } from "@berth/core/events";
import { countCronRuns, cronRunsPage, CronTriggerTimeoutError, type CronJobStatus } from "@berth/core/cron";
import type { CronRun } from "@berth/core/db";
import { builder } from "../builder.js";

export const CronRunRef = builder.objectRef<CronRun>("CronRun").implement({
  description: "One fire time of a job: which replica ran it and how it went.",
  fields: (t) => ({
    id: t.exposeID("id"),
    job: t.exposeString("job"),
    replica: t.exposeString("replica"),
    status: t.exposeString("status", { description: "running, succeeded, failed or missed." }),
    trigger: t.exposeString("trigger", { description: "schedule, manual or catch_up." }),
    scheduledAt: t.expose("scheduledAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    durationMs: t.exposeInt("durationMs", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    fencingToken: t.exposeString("fencingToken", { nullable: true }),
  }),
});

const CronJobRef = builder.objectRef<CronJobStatus>("CronJob").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    schedule: t.exposeString("schedule", { description: "Cron expression (seconds field first when it has six fields)." }),
    timeZone: t.exposeString("timeZone"),
    overlap: t.exposeString("overlap", { description: "skip or wait: what a fire time does while the previous run still runs." }),
    lockTtlMs: t.exposeInt("lockTtlMs"),
    paused: t.exposeBoolean("paused"),
    nextRunAt: t.expose("nextRunAt", { type: "DateTime", nullable: true }),
    lastRun: t.expose("lastRun", { type: CronRunRef, nullable: true }),
  }),
});

const CronRunUpdatedRef = builder.objectRef<{ id: string; job: string; status: string; durationMs: number | null }>("CronRunUpdated").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    job: t.exposeString("job"),
    status: t.exposeString("status"),
    durationMs: t.exposeInt("durationMs", { nullable: true }),
  }),
});

builder.queryFields((t) => ({
  cronJobs: t.field({ type: [CronJobRef], resolve: (_r, _a, ctx) => ctx.services.cron.listJobs() }),
  cronRuns: t.field({
    type: [CronRunRef],
    description: "Run history, newest fire time first.",
    args: { job: t.arg.string(), status: t.arg.string(), first: t.arg.int({ defaultValue: 50 }), offset: t.arg.int({ defaultValue: 0 }) },
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 50, 500) / 10 }),
    resolve: (_r, args, ctx) => cronRunsPage(ctx.services.prisma, { job: args.job, status: args.status, first: args.first ?? 50, offset: args.offset ?? 0 }),
  }),
  cronRunCount: t.field({
    type: "Int",
    args: { job: t.arg.string(), status: t.arg.string() },
    resolve: (_r, args, ctx) => countCronRuns(ctx.services.prisma, { job: args.job, status: args.status }),
  }),
}));

builder.mutationFields((t) => ({
  triggerCronJob: t.field({
    type: CronRunRef,
    errors: {},
    description: "Runs the job once now, on one replica; returns the run once it started.",
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const started = Date.now();
      const run = await ctx.services.cron.trigger(args.name);
      if (!run) throw new CronTriggerTimeoutError(args.name, Date.now() - started);
      return run;
    },
  }),
  pauseCronJob: t.field({
    type: CronJobRef,
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.cron.pause(args.name);
      return jobStatus(ctx.services.cron.listJobs(), args.name);
    },
  }),
  resumeCronJob: t.field({
    type: CronJobRef,
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.cron.resume(args.name);
      return jobStatus(ctx.services.cron.listJobs(), args.name);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  cronRunUpdated: t.field({
    type: CronRunUpdatedRef,
    description: "Each run as it starts and ends, on any replica.",
    // A lost run event leaves only history behind: a console re-reads it on its next refresh.
    subscribe: (_r, _a, ctx) => withResync(ctx.services.events.subscribe("cronRun"), async () => []),
    resolve: (event) => event,
  }),
}));

async function jobStatus(jobs: Promise<CronJobStatus[]>, name: string): Promise<CronJobStatus> {
  const job = (await jobs).find((j) => j.name === name);
  if (!job) throw new Error(`cron job ${name} vanished`);
  return job;
}
