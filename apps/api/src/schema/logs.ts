import { TaskLogGapError, type TaskLogPage } from "@berth/core/logs";
import { agentScope } from "@berth/core/tokens";
import { builder } from "../builder.js";
import { ErrorInterface } from "./errors.js";
import { TaskRef } from "./tasks.js";

builder.objectType(TaskLogGapError, {
  name: "TaskLogGapError",
  description: "The chunk starts past the end of the log; nothing was stored. Resend from currentSize.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    currentSize: t.float({ resolve: (e) => e.currentSize, description: "The log's size in bytes: where the next chunk must start." }),
    offset: t.float({ resolve: (e) => e.offset }),
  }),
});

const TaskLogPageRef = builder.objectRef<TaskLogPage>("TaskLogPage").implement({
  description: "Part of a task's log. Offsets count bytes of the log's UTF-8 text.",
  fields: (t) => ({
    data: t.exposeString("data", { description: "Text from the requested offset on, with a '… N bytes truncated …' line where bytes were dropped." }),
    nextOffset: t.exposeFloat("nextOffset", { description: "Where to read on: the log's size once caught up." }),
    complete: t.exposeBoolean("complete", { description: "The task has ended and this page reaches the end of its log." }),
    truncated: t.exposeBoolean("truncated", { description: "The log outgrew TASK_LOG_MAX_BYTES: its head and tail are kept." }),
  }),
});

const AppendTaskLogResultRef = builder.objectRef<{ nextOffset: number }>("AppendTaskLogResult").implement({
  fields: (t) => ({ nextOffset: t.exposeFloat("nextOffset", { description: "The log's size in bytes: where the next chunk starts." }) }),
});

const AppendTaskLogInput = builder.inputType("AppendTaskLogInput", {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    pod: t.string({ required: true, description: "The agent's pod: the task must be placed on it." }),
    offset: t.float({ required: true, description: "Byte offset (UTF-8) of data in the task's log." }),
    data: t.string({ required: true, description: "At most 256 KiB (UTF-8). Empty at offset 0: only learn the log's size." }),
  }),
});

builder.objectField(TaskRef, "log", (t) =>
  t.field({
    type: TaskLogPageRef,
    description: "The task's log from byte `from` (default 0), at most 256 KiB per page; follow nextOffset for more.",
    authScopes: { viewer: true },
    // Up to 256 KiB each: a list of tasks with their logs stays a few pages under MAX_QUERY_COST.
    complexity: 250,
    args: { from: t.arg.float() },
    resolve: (task, args, ctx) => ctx.services.logs.read(task.id, args.from ?? 0),
  }),
);

builder.mutationFields((t) => ({
  appendTaskLog: t.field({
    type: AppendTaskLogResultRef,
    errors: { types: [TaskLogGapError] },
    skipTypeScopes: true,
    authScopes: { agent: true, admin: true },
    description:
      "Appends a chunk of a running task's log, from the agent of the pod the task is placed on. Idempotent by offset: bytes already stored are not stored again; a chunk past the end is refused with TaskLogGapError.",
    args: { input: t.arg({ type: AppendTaskLogInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.logs.append({ taskId: String(input.taskId), pod: input.pod, offset: input.offset, data: input.data, scopePoolId: agentScope(ctx.auth).poolId }),
  }),
}));

builder.subscriptionFields((t) => ({
  taskLog: t.field({
    type: TaskLogPageRef,
    description:
      "The task's log from byte `from` (default 0), live: what is there, then each chunk as it is appended, on any replica. Ends after the page with complete: true, once the task has ended.",
    args: { id: t.arg.id({ required: true }), from: t.arg.float() },
    subscribe: async (_r, args, ctx) => {
      const id = String(args.id);
      await ctx.services.logs.read(id, 0, 4); // an unknown task fails here, before streaming
      return ctx.services.logs.follow(id, args.from ?? 0);
    },
    resolve: (page) => page,
  }),
}));
