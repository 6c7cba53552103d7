import type { Task } from "@berth/core/db";
import { podsByName, poolsById } from "@berth/core/pools";
import { slotsForTasks } from "@berth/core/slots";
import {
  ALL_STATUSES,
  approveTask,
  cancelTask,
  countTasksByStatus,
  getTask,
  listApprovals,
  listTaskPage,
  listTasks,
  rejectTask,
  submitTask,
  taskCursor,
  type TaskFilter,
} from "@berth/core/tasks";
import { builder } from "../builder.js";
import { PodRef, SlotRef } from "./pods.js";

export const TaskRef = builder.objectRef<Task>("Task");

TaskRef.implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    type: t.exposeString("type"),
    status: t.exposeString("status", { description: "pending, running, apply_pending, applying, succeeded, failed, cancelled or expired." }),
    payload: t.expose("payload", { type: "JSON" }),
    output: t.expose("output", { type: "JSON", nullable: true, description: "What the agent reported: the plan of an apply_pending task, results, errors." }),
    error: t.exposeString("error", { nullable: true }),
    attempts: t.exposeInt("attempts"),
    concurrencyKey: t.exposeString("concurrencyKey", { nullable: true, description: "Tasks of the pool sharing this key run one at a time, in submission order." }),
    keyBlocked: t.exposeBoolean("keyBlocked", { description: "Pending behind an earlier task of its concurrency key." }),
    timeoutSeconds: t.exposeInt("timeoutSeconds", { nullable: true, description: "Run deadline of each phase (plan, apply); null: none." }),
    deadlineAt: t.expose("deadlineAt", { type: "DateTime", nullable: true, description: "When the running phase must have ended." }),
    acknowledgedAt: t.expose("acknowledgedAt", { type: "DateTime", nullable: true, description: "When the agent confirmed it runs the current phase." }),
    stopRequestedAt: t.expose("stopRequestedAt", { type: "DateTime", nullable: true, description: "Set while the slot waits for the agent to stop a task the server ended." }),
    failureReason: t.exposeString("failureReason", {
      nullable: true,
      description: "Why the task ended other than by its agent's report: deadline_exceeded, pod_lost, cancelled, superseded, reservation_expired, pool_deleted, agent_stopped, slot_lost.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    planReadyAt: t.expose("planReadyAt", { type: "DateTime", nullable: true }),
    approvedAt: t.expose("approvedAt", { type: "DateTime", nullable: true }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    idempotencyKey: t.exposeString("idempotencyKey", { nullable: true }),
    reviewedBy: t.exposeString("reviewedBy", { nullable: true, description: "The name of the token that approved or rejected the plan." }),
    reviewedAt: t.expose("reviewedAt", { type: "DateTime", nullable: true }),
    reviewVerdict: t.exposeString("reviewVerdict", { nullable: true, description: "approved or rejected." }),
    reviewComment: t.exposeString("reviewComment", { nullable: true }),
    podName: t.exposeString("podName", { nullable: true, description: "Where the task runs or last ran, even after the pod is gone." }),
    slotIndex: t.exposeInt("slotIndex", { nullable: true }),
    pool: t.loadable({
      type: "String",
      load: async (ids: string[], ctx) => {
        const pools = await poolsById(ctx.services.core, ids);
        return ids.map((id) => pools.get(id)?.name ?? "");
      },
      resolve: (task) => task.poolId,
    }),
    pod: t.loadable({
      type: PodRef,
      nullable: true,
      description: "The pod the task is placed on, while that pod exists.",
      load: async (names: string[], ctx) => {
        const pods = await podsByName(ctx.services.core, names);
        return names.map((n) => pods.get(n) ?? null);
      },
      resolve: (task) => task.podName,
    }),
    slot: t.loadable({
      type: SlotRef,
      nullable: true,
      description: "The slot the task holds now (running, reserved); null once it let go.",
      load: async (ids: string[], ctx) => {
        const slots = await slotsForTasks(ctx.services.core, ids);
        return ids.map((id) => slots.get(id) ?? null);
      },
      resolve: (task) => task.id,
    }),
  }),
});

const SubmitTaskInput = builder.inputType("SubmitTaskInput", {
  fields: (t) => ({
    pool: t.string({ required: true }),
    type: t.string({ required: true, description: "plan, apply, plan_and_apply or any name (1-64 of letters, digits, _ . : -)." }),
    payload: t.field({ type: "JSON", description: "Up to 64 KiB of JSON. The demo agent honours {durationMs, fail}." }),
    timeoutSeconds: t.int({ description: "Run deadline of each phase in seconds (1 to 604800). Absent: the pool's taskTimeoutSeconds; explicit null: no deadline." }),
    concurrencyKey: t.string({
      description:
        "Tasks of the pool sharing this key run one at a time, in submission order; a plan waiting for approval holds it. Other keys are not held up. 1-128 printable ASCII characters without spaces.",
    }),
    supersede: t.boolean({ description: "With a concurrencyKey: cancel the key's tasks that have not started yet (failureReason superseded) and queue this one." }),
    idempotencyKey: t.string({
      description:
        "Makes a retry safe: while a task submitted with this key exists in the pool, submitting the same type and payload with it again returns that task; another type or payload is a ConflictError. 1-128 printable ASCII characters.",
    }),
  }),
});

builder.queryFields((t) => ({
  task: t.field({
    type: TaskRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => getTask(ctx.services.core, String(args.id)).catch(() => null),
  }),
  tasks: t.field({
    type: [TaskRef],
    description: "Newest first.",
    args: { pool: t.arg.string(), status: t.arg.stringList(), first: t.arg.int({ defaultValue: 50 }) },
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 50, 500) / 5 }),
    resolve: (_r, args, ctx) =>
      listTasks(ctx.services.core, { pool: args.pool ?? undefined, status: args.status ?? undefined, first: args.first ?? 50 }),
  }),
}));

const TaskFilterInput = builder.inputType("TaskFilter", {
  fields: (t) => ({
    pool: t.string({ description: "Pool name." }),
    status: t.stringList({ description: "Any of these statuses." }),
    type: t.string(),
    pod: t.string({ description: "The pod the task runs or ran on." }),
    submittedAfter: t.field({ type: "DateTime", description: "Submitted at or after." }),
    submittedBefore: t.field({ type: "DateTime", description: "Submitted before." }),
    search: t.string({ description: "A task id, or part of an idempotency key." }),
  }),
});

const TaskStatusCountRef = builder.objectRef<{ status: string; count: number }>("TaskStatusCount").implement({
  fields: (t) => ({ status: t.exposeString("status"), count: t.exposeInt("count") }),
});

type TaskConnectionShape = { filter: TaskFilter };

builder.queryFields((t) => ({
  tasksConnection: t.connection(
    {
      type: TaskRef,
      description: "Tasks across pools, newest submission first (ties by id); page with first/after or last/before (at most 200).",
      args: { filter: t.arg({ type: TaskFilterInput }) },
      complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? args.last ?? 50, 200) / 5 }),
      resolve: async (_r, args, ctx) => {
        const filter: TaskFilter = { ...args.filter };
        const page = await listTaskPage(ctx.services.core, { filter, first: args.first, after: args.after, last: args.last, before: args.before });
        return {
          filter,
          edges: page.tasks.map((task) => ({ cursor: taskCursor(task), node: task })),
          pageInfo: page.pageInfo,
        };
      },
    },
    {
      name: "TaskConnection",
      fields: (c) => ({
        countsByStatus: c.field({
          type: [TaskStatusCountRef],
          description: "Tasks matching the filter other than its status, per status (every status listed).",
          complexity: 5,
          resolve: async (parent, _a, ctx) => {
            const counts = await countTasksByStatus(ctx.services.core, (parent as unknown as TaskConnectionShape).filter);
            return ALL_STATUSES.map((status) => ({ status, count: counts[status] }));
          },
        }),
      }),
    },
    { name: "TaskEdge" },
  ),
  approvals: t.field({
    type: [TaskRef],
    description: "Plans waiting for approval (apply_pending) across pools, the oldest first.",
    args: { first: t.arg.int({ defaultValue: 100 }) },
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 100, 200) / 5 }),
    resolve: (_r, args, ctx) => listApprovals(ctx.services.core, args.first ?? 100),
  }),
  approvalsCount: t.int({
    description: "How many plans wait for approval across pools.",
    resolve: async (_r, _a, ctx) => (await countTasksByStatus(ctx.services.core)).apply_pending,
  }),
}));

builder.mutationFields((t) => ({
  submitTask: t.field({
    type: TaskRef,
    errors: {},
    args: { input: t.arg({ type: SubmitTaskInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      submitTask(ctx.services.core, {
        pool: input.pool,
        type: input.type,
        payload: input.payload ?? undefined,
        idempotencyKey: input.idempotencyKey,
        timeoutSeconds: "timeoutSeconds" in input ? input.timeoutSeconds : undefined,
        concurrencyKey: input.concurrencyKey,
        supersede: input.supersede ?? undefined,
      }),
  }),
  approveTask: t.field({
    type: TaskRef,
    errors: {},
    description: "Approves the plan of an apply_pending task: the apply runs on the same pod and slot.",
    args: { id: t.arg.id({ required: true }), comment: t.arg.string({ description: "Kept on the task with the reviewer's name (up to 2000 characters)." }) },
    resolve: (_r, args, ctx) => approveTask(ctx.services.core, String(args.id), { by: ctx.auth?.name ?? "unknown", comment: args.comment }),
  }),
  rejectTask: t.field({
    type: TaskRef,
    errors: {},
    description: "Rejects the plan of an apply_pending task: it ends cancelled without applying and its reserved slot is freed.",
    args: { id: t.arg.id({ required: true }), comment: t.arg.string({ description: "Kept on the task with the reviewer's name (up to 2000 characters)." }) },
    resolve: (_r, args, ctx) => rejectTask(ctx.services.core, String(args.id), { by: ctx.auth?.name ?? "unknown", comment: args.comment }),
  }),
  cancelTask: t.field({
    type: TaskRef,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => cancelTask(ctx.services.core, String(args.id)),
  }),
}));
