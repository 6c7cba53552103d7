import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import type { ApiRole } from "../db/index.js";
import { ForbiddenError, ValidationError } from "../errors.js";

/**
 * Task types a pool declares: what its agents run for a task of each type. A pool that declares
 * none keeps the built-in types (`plan`, `apply`, `plan_and_apply`, honouring `{durationMs, fail}`).
 */
export interface TaskTypeSpec {
  /** The task `type` that selects it. */
  name: string;
  /** argv of the command (the plan, for a plan-and-apply type); no shell unless `shell`. */
  command: string[];
  /** argv run after approval, in the plan's working directory; its presence makes the type plan-and-apply. */
  applyCommand: string[] | null;
  /** Run `command[0]` through `/bin/sh -c` (the rest of argv become `$0`, `$1`, ...). */
  shell: boolean;
  /** Added to the command's environment (names starting with BERTH_ are Berth's). */
  env: Record<string, string>;
  /** The agent kills a command running longer (failure reason `deadline_exceeded`); null: none of its own. */
  timeoutSeconds: number | null;
  /** What of the working directory is kept when the task ends: nothing, or the whole directory. */
  keep: "none" | "workdir";
}

/** A task type as an admin writes it: the rest has defaults. */
export type TaskTypeInput = Pick<TaskTypeSpec, "name" | "command"> & Partial<{ [K in Exclude<keyof TaskTypeSpec, "name" | "command">]: TaskTypeSpec[K] | null }>;

export const BUILTIN_TASK_TYPES = ["plan", "apply", "plan_and_apply"] as const;
export const MAX_TASK_TYPES = 32;
export const MAX_ARGV = 64;
export const MAX_ARG_LENGTH = 4096;
export const MAX_ENV = 64;
/** The whole declaration, as JSON. */
export const MAX_TASK_TYPES_BYTES = 64 * 1024;

const TYPE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const noNul = (s: string) => !s.includes("\0");

const arg = z.string().min(1, "arguments must not be empty").max(MAX_ARG_LENGTH, `arguments must be at most ${MAX_ARG_LENGTH} characters`).refine(noNul, "arguments must not contain NUL");
const argv = z.array(arg).min(1, "a command needs at least the program").max(MAX_ARGV, `a command has at most ${MAX_ARGV} arguments`);

const taskTypeSchema = z.strictObject({
  name: z.string().regex(TYPE_NAME, "name must be 1-64 characters of letters, digits, _ . : -"),
  command: argv,
  applyCommand: argv.nullable().optional(),
  shell: z.boolean().nullable().optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME, "env names are letters, digits and _ (not starting with a digit)").refine((k) => !k.startsWith("BERTH_"), "env names starting with BERTH_ are set by the agent"),
      z.string().max(MAX_ARG_LENGTH, `env values must be at most ${MAX_ARG_LENGTH} characters`).refine(noNul, "env values must not contain NUL"),
    )
    .refine((env) => Object.keys(env).length <= MAX_ENV, `at most ${MAX_ENV} env variables`)
    .nullable()
    .optional(),
  timeoutSeconds: z.number().int().min(1, "timeoutSeconds must be between 1 and 604800").max(7 * 86_400, "timeoutSeconds must be between 1 and 604800").nullable().optional(),
  keep: z.enum(["none", "workdir"], "keep must be none or workdir").nullable().optional(),
});

/** An invalid task type declaration; `field` names it, e.g. `taskTypes[1].command[0]`. */
export class TaskTypeSpecError extends ValidationError {}

/**
 * Validates and normalises a pool's task types (defaults filled in). Null or an empty list: the
 * pool declares none. Throws TaskTypeSpecError naming the first field at fault.
 */
export function parseTaskTypes(input: unknown): TaskTypeSpec[] | null {
  if (input === null || input === undefined) return null;
  if (!Array.isArray(input)) throw new TaskTypeSpecError("taskTypes", "taskTypes must be a list");
  if (input.length === 0) return null;
  if (input.length > MAX_TASK_TYPES) throw new TaskTypeSpecError("taskTypes", `a pool declares at most ${MAX_TASK_TYPES} task types`);
  if (Buffer.byteLength(JSON.stringify(input), "utf8") > MAX_TASK_TYPES_BYTES) {
    throw new TaskTypeSpecError("taskTypes", `taskTypes must be at most ${MAX_TASK_TYPES_BYTES} bytes as JSON`);
  }
  const seen = new Set<string>();
  return input.map((raw, i) => {
    const parsed = taskTypeSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
      throw new TaskTypeSpecError(`taskTypes[${i}]${path}`, issue.message);
    }
    const t = parsed.data;
    if (seen.has(t.name)) throw new TaskTypeSpecError(`taskTypes[${i}].name`, `task type ${JSON.stringify(t.name)} is declared twice`);
    seen.add(t.name);
    return {
      name: t.name,
      command: t.command,
      applyCommand: t.applyCommand ?? null,
      shell: t.shell ?? false,
      env: t.env ?? {},
      timeoutSeconds: t.timeoutSeconds ?? null,
      keep: t.keep ?? "none",
    };
  });
}

/** A task type the pool does not declare was submitted. */
export class UnknownTaskTypeError extends ValidationError {
  constructor(
    readonly pool: string,
    readonly type: string,
    readonly known: readonly string[],
  ) {
    super("type", `pool ${pool} has no task type ${JSON.stringify(type)}; its task types: ${known.join(", ")}`);
  }
}

/** Only an admin may make a `local` pool run commands: they run on the API's own machine. */
export class LocalCommandsForbiddenError extends ForbiddenError {
  constructor(readonly pool: string) {
    super(`only an admin may declare or change task types with commands on pool ${pool}: on the local runtime they run on the API's own machine`);
  }
}

/**
 * A local pool's commands run on this host: declaring or changing them (or moving a pool that
 * has some to the local runtime) needs the admin role. Kubernetes pools' commands run inside
 * their pods, under the pod policy.
 */
export function admitTaskTypes(spec: { name: string; runtime: string; taskTypes: TaskTypeSpec[] | null }, previous: { runtime: string; taskTypes: TaskTypeSpec[] | null } | undefined, role: ApiRole | undefined): void {
  if (spec.runtime !== "local" || !spec.taskTypes?.length || role === "admin") return;
  const unchanged = previous !== undefined && previous.runtime === "local" && isDeepStrictEqual(previous.taskTypes, spec.taskTypes);
  if (!unchanged) throw new LocalCommandsForbiddenError(spec.name);
}

/** The declared type of a task, or null when the pool keeps the built-in types. */
export function resolveTaskType(taskTypes: unknown, type: string): TaskTypeSpec | null {
  if (!Array.isArray(taskTypes)) return null;
  return (taskTypes as TaskTypeSpec[]).find((t) => t.name === type) ?? null;
}

/** Throws UnknownTaskTypeError when the pool declares task types and `type` is not one of them. */
export function checkTaskType(pool: { name: string; taskTypes: unknown }, type: string): void {
  if (!Array.isArray(pool.taskTypes) || pool.taskTypes.length === 0) return;
  const names = (pool.taskTypes as TaskTypeSpec[]).map((t) => t.name);
  if (!names.includes(type)) throw new UnknownTaskTypeError(pool.name, type, names);
}
