import { currentAssignments, heartbeat, registerAgent, syncAgent, type AgentSync, type ReservedWork } from "@berth/core/agents";
import type { Pod, Task } from "@berth/core/db";
import { getTask, isTerminal, reportTask } from "@berth/core/tasks";
import { agentScope } from "@berth/core/tokens";
import { builder } from "../builder.js";
import type { BerthContext } from "../context.js";
import { PodRef } from "./pods.js";
import { TaskDefinitionRef, taskDefinition } from "./task-types.js";
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
    definition: t.field({
      type: TaskDefinitionRef,
      nullable: true,
      description: "What to run: the task's type as its pool declares it; null when the pool keeps the built-in types ({durationMs, fail}).",
      resolve: (a, _args, ctx) => taskDefinition(a.task, ctx),
    }),
  }),
});

const ReportTaskInput = builder.inputType("ReportTaskInput", {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    status: t.string({ required: true, description: "running, apply_pending, succeeded or failed." }),
    output: t.field({ type: "JSON", description: "The plan (apply_pending), results, or {error} (failed)." }),
    pod: t.string({ description: "The reporting pod; when given, the task must be placed on it." }),
    reason: t.string({ description: "With status failed: deadline_exceeded, plan_workdir_missing or command_failed, kept as the task's failureReason." }),
  }),
});

const ReservedRef = builder.objectRef<ReservedWork>("ReservedWork").implement({
  description: "A plan waiting for approval on the pod: its agent keeps the plan's working directory.",
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (r) => r.task }),
    slot: t.field({ type: AssignmentSlot, resolve: (r) => ({ index: r.slotIndex }) }),
    reservedUntil: t.expose("reservedUntil", { type: "DateTime", nullable: true }),
  }),
});

const AgentSyncRef = builder.objectRef<AgentSync>("AgentSync").implement({
  description:
    "The server's truth for one pod, answered at every sync: the agent starts what it is missing from `assignments`, stops what is in `stop`, keeps the working directories of `reserved`, and takes no new work while `draining` (and exits once idle when the pod is Terminating).",
  fields: (t) => ({
    pod: t.field({ type: PodRef, resolve: (s) => s.pod }),
    assignments: t.field({ type: [Assignment], resolve: (s) => s.assignments }),
    reserved: t.field({ type: [ReservedRef], resolve: (s) => s.reserved }),
    stop: t.idList({ resolve: (s) => s.stop, description: "Tasks the agent said it runs that it must stop now." }),
    draining: t.exposeBoolean("draining"),
  }),
});

const SyncAgentInput = builder.inputType("SyncAgentInput", {
  fields: (t) => ({
    pod: t.string({ required: true }),
    active: t.idList({ description: "The tasks the agent runs right now. Omit it only if the agent cannot tell (nothing is then confirmed stopped)." }),
  }),
});

builder.mutationFields((t) => ({
  syncAgent: t.field({
    type: AgentSyncRef,
    errors: {},
    skipTypeScopes: true,
    authScopes: agentScopes,
    description:
      "The agent's heartbeat and level-triggered sync in one call, made at every heartbeat: whatever events were lost, an agent that applies each answer converges within one heartbeat. Refused with ConflictError code POD_LOST or POD_TERMINATING, or NotFoundError, when the agent must exit.",
    args: { input: t.arg({ type: SyncAgentInput, required: true }) },
    resolve: (_r, { input }, ctx) => syncAgent(ctx.services.core, { pod: input.pod, active: input.active?.map(String) ?? null }, scopeOf(ctx)),
  }),
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
    resolve: async (_r, { input }, ctx) => {
      const task = await reportTask(ctx.services.core, {
        taskId: String(input.taskId),
        status: input.status,
        output: input.output ?? undefined,
        pod: input.pod ?? null,
        reason: input.reason ?? null,
        scopePoolId: scopeOf(ctx).poolId,
      });
      // The log moves to storage now rather than at the next background pass (which retries a failure).
      if (isTerminal(task.status)) void ctx.services.logs.archive(task.id).catch(() => {});
      return task;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  assignments: t.field({
    type: Assignment,
    skipTypeScopes: true,
    authScopes: agentScopes,
    description:
      "The pod's current assignments first, then every new one, as they happen; its current assignments again whenever the server's event stream was interrupted. Events can still be lost: agents also call syncAgent at every heartbeat.",
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
    let current = await currentAssignments(core, pod, scopeOf(ctx));
    let seen = new Set(current.map((a) => `${a.task.id}:${a.action}`));
    for (const a of current) yield { task: a.task, slotIndex: a.slotIndex, action: a.action };
    for await (const event of events) {
      if ("resync" in event) {
        // The bus lost its connection for a while: whatever was published meanwhile is gone.
        current = await currentAssignments(core, pod, scopeOf(ctx));
        seen = new Set();
        for (const a of current) yield { task: a.task, slotIndex: a.slotIndex, action: a.action };
        continue;
      }
      if (seen.delete(`${event.taskId}:${event.action}`)) continue;
      const task = await getTask(core, event.taskId).catch(() => null);
      if (task) yield { task, slotIndex: event.slotIndex, action: event.action };
    }
  } finally {
    await events.return?.();
  }
}
