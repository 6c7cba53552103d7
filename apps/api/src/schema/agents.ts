import { currentAssignments, heartbeat, registerAgent } from "@berth/core/agents";
import type { Pod, Task } from "@berth/core/db";
import { getTask, reportTask } from "@berth/core/tasks";
import { agentScope } from "@berth/core/tokens";
import { builder } from "../builder.js";
import type { BerthContext } from "../context.js";
import { PodRef } from "./pods.js";
import { TaskRef } from "./tasks.js";

// Agents act for their own pods; admins may act as any agent (for debugging and scripts).
const agentScopes = { agent: true, admin: true } as const;
// A pool-less agent token (from before pools were required) acts for no pod: agentScope throws ForbiddenError.
const scopeOf = (ctx: BerthContext) => agentScope(ctx.auth);

const Registration = builder.objectRef<{ pod: Pod }>("AgentRegistration").implement({
  fields: (t) => ({ pod: t.field({ type: PodRef, resolve: (r) => r.pod }) }),
});

interface AssignmentItem {
  task: Task;
  slotIndex: number;
  action: string;
}

const AssignmentSlot = builder.objectRef<{ index: number }>("AssignmentSlot").implement({
  fields: (t) => ({ index: t.exposeInt("index") }),
});

const Assignment = builder.objectRef<AssignmentItem>("Assignment").implement({
  description: "Work for a pod's agent. Dispatch on task.status: running (start), applying (approved: apply), cancelled (stop).",
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (a) => a.task }),
    slot: t.field({ type: AssignmentSlot, resolve: (a) => ({ index: a.slotIndex }) }),
    action: t.exposeString("action", { description: "run, apply or cancel." }),
  }),
});

const ReportTaskInput = builder.inputType("ReportTaskInput", {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    status: t.string({ required: true, description: "running, apply_pending, succeeded or failed." }),
    output: t.field({ type: "JSON", description: "The plan (apply_pending), results, or {error} (failed)." }),
    pod: t.string({ description: "The reporting pod; when given, the task must be placed on it." }),
  }),
});

builder.mutationFields((t) => ({
  registerAgent: t.field({
    type: Registration,
    errors: {},
    skipTypeScopes: true,
    authScopes: agentScopes,
    args: { pod: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => ({ pod: await registerAgent(ctx.services.core, args.pod, scopeOf(ctx)) }),
  }),
  heartbeat: t.field({
    type: "Boolean",
    errors: {},
    skipTypeScopes: true,
    authScopes: agentScopes,
    args: { pod: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await heartbeat(ctx.services.core, args.pod, scopeOf(ctx));
      return true;
    },
  }),
  reportTask: t.field({
    type: TaskRef,
    errors: {},
    skipTypeScopes: true,
    authScopes: agentScopes,
    args: { input: t.arg({ type: ReportTaskInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      reportTask(ctx.services.core, {
        taskId: String(input.taskId),
        status: input.status,
        output: input.output ?? undefined,
        pod: input.pod ?? null,
        scopePoolId: scopeOf(ctx).poolId,
      }),
  }),
}));

builder.subscriptionFields((t) => ({
  assignments: t.field({
    type: Assignment,
    skipTypeScopes: true,
    authScopes: agentScopes,
    description: "The pod's current assignments first, then every new one, as they happen.",
    args: { pod: t.arg.string({ required: true }) },
    subscribe: (_r, args, ctx) => assignmentStream(ctx, args.pod),
    resolve: (item) => item,
  }),
}));

async function* assignmentStream(ctx: BerthContext, pod: string): AsyncGenerator<AssignmentItem> {
  const core = ctx.services.core;
  // Subscribe before reading the current state, so nothing placed in between is missed.
  const events = ctx.services.events.subscribe(`assignment:${pod}`);
  try {
    const current = await currentAssignments(core, pod, scopeOf(ctx));
    const seen = new Set(current.map((a) => `${a.task.id}:${a.action}`));
    for (const a of current) yield { task: a.task, slotIndex: a.slotIndex, action: a.action };
    for await (const event of events) {
      if (seen.delete(`${event.taskId}:${event.action}`)) continue;
      const task = await getTask(core, event.taskId).catch(() => null);
      if (task) yield { task, slotIndex: event.slotIndex, action: event.action };
    }
  } finally {
    await events.return?.();
  }
}
