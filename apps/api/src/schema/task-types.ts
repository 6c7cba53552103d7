import { poolsById, resolveTaskType, type TaskTypeSpec } from "@berth/core/pools";
import type { Pool, Task } from "@berth/core/db";
import { builder } from "../builder.js";
import type { BerthContext } from "../context.js";
import { requestLoader } from "../loaders.js";

export const TaskTypeRef = builder.objectRef<TaskTypeSpec>("TaskType").implement({
  description: "A task type a pool declares: what its agents run for tasks of that type.",
  fields: (t) => ({
    name: t.exposeString("name"),
    command: t.exposeStringList("command", { description: "argv of the command (the plan of a plan-and-apply type)." }),
    applyCommand: t.exposeStringList("applyCommand", { nullable: true, description: "argv run after approval in the plan's working directory; set: the type is plan-and-apply." }),
    shell: t.exposeBoolean("shell", { description: "command[0] runs through /bin/sh -c." }),
    env: t.field({ type: "JSON", resolve: (s) => s.env, description: "Added to the command's environment." }),
    timeoutSeconds: t.exposeInt("timeoutSeconds", { nullable: true, description: "The agent kills a command running longer: failed, deadline_exceeded." }),
    keep: t.exposeString("keep", { description: "none (default) or workdir: what of the working directory is kept when the task ends." }),
    planAndApply: t.boolean({ resolve: (s) => s.applyCommand !== null, description: "The type has an applyCommand." }),
  }),
});

export const TaskTypeInput = builder.inputType("TaskTypeInput", {
  fields: (t) => ({
    name: t.string({ required: true, description: "The task type (1-64 of letters, digits, _ . : -)." }),
    command: t.stringList({ required: true, description: "argv, 1-64 arguments of at most 4096 characters; no shell unless shell is true." }),
    applyCommand: t.stringList({ description: "argv run after approval, in the same working directory." }),
    shell: t.boolean({ description: "Run command[0] through /bin/sh -c; default false." }),
    env: t.field({ type: "JSON", description: "An object of at most 64 string variables (names starting with BERTH_ are reserved)." }),
    timeoutSeconds: t.int({ description: "1 s to 7 days: the agent kills the command past it (failed, deadline_exceeded)." }),
    keep: t.string({ description: "none (default: the working directory is removed when the task ends) or workdir." }),
  }),
});

/** What an agent runs for a task: its pool's declared type, or null for the built-in types. */
export const TaskDefinitionRef = builder.objectRef<{ type: TaskTypeSpec; stopGraceSeconds: number }>("TaskDefinition").implement({
  description: "The resolved task type of an assignment, so that an agent needs no other query.",
  fields: (t) => ({
    type: t.field({ type: TaskTypeRef, resolve: (d) => d.type }),
    stopGraceSeconds: t.exposeInt("stopGraceSeconds", { description: "The pool's: how long a stopped task's slot waits for its agent." }),
  }),
});

const poolLoader = requestLoader<string, Pool | null>(async (ids, ctx) => {
  const pools = await poolsById(ctx.services.core, ids);
  return ids.map((id) => pools.get(id) ?? null);
});

/** The definition of `task`'s type in its pool (batched per request); null when the pool declares no task types. */
export async function taskDefinition(task: Task, ctx: BerthContext): Promise<{ type: TaskTypeSpec; stopGraceSeconds: number } | null> {
  // Never from an earlier event's cache: a subscription's context lives as long as its stream,
  // and a pool's task types may change meanwhile. Loads of one tick still go in one query.
  const pool = await poolLoader(ctx).clear(task.poolId).load(task.poolId);
  const type = pool ? resolveTaskType(pool.taskTypes, task.type) : null;
  return pool && type ? { type, stopGraceSeconds: pool.stopGraceSeconds } : null;
}
