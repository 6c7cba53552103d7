import { z } from "zod";
import { ValidationError } from "../errors.js";
import { parseTaskTypes, type TaskTypeInput, type TaskTypeSpec } from "./task-types.js";
import { checkCapacityWindows, type CapacityWindow, type CapacityWindowInput } from "./windows.js";

/** An invalid pool spec; `field` names the input field at fault. */
export class PoolSpecError extends ValidationError {}

export const RUNTIMES = ["local", "kubernetes"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const fields = {
  name: z
    .string()
    .max(40, "name must be at most 40 characters (pod names add a suffix)")
    .regex(dns1123Label, "name must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"),
  runtime: z.string(),
  namespace: z.string().max(63).regex(dns1123Label, "namespace must be a DNS-1123 label"),
  image: z.string().min(1).max(512).nullable(),
  podTemplate: z.record(z.string(), z.unknown()).nullable(),
  slotsPerPod: z.number().int().min(1, "slotsPerPod must be between 1 and 64").max(64, "slotsPerPod must be between 1 and 64"),
  minPods: z.number().int().min(0, "minPods must be 0 or more").max(1000),
  maxPods: z.number().int().min(0, "maxPods must be 0 or more").max(1000, "maxPods must be at most 1000"),
  scaleUpAt: z.number().gt(0, "scaleUpAt must be above 0").max(1, "scaleUpAt must be at most 1"),
  scaleDownAt: z.number().gt(0, "scaleDownAt must be above 0").lt(1, "scaleDownAt must be below 1"),
  scaleUpCooldownSeconds: z.number().int().min(0).max(86_400),
  scaleDownCooldownSeconds: z.number().int().min(0).max(86_400),
  stabilizationWindowSeconds: z.number().int().min(0).max(86_400),
  maxStep: z.number().int().min(1, "maxStep must be at least 1").max(100),
  scaleUpMaxStep: z.number().int().min(1, "scaleUpMaxStep must be at least 1 (or null: no bound but maxPods)").max(1000, "scaleUpMaxStep must be at most 1000").nullable(),
  maxTasksPerPod: z.number().int().min(1, "maxTasksPerPod must be at least 1 (or null: no limit)").max(1_000_000, "maxTasksPerPod must be at most 1000000").nullable(),
  maxPodAgeSeconds: z
    .number()
    .int()
    .min(60, "maxPodAgeSeconds must be at least 60 (or null: no limit)")
    .max(365 * 86_400, "maxPodAgeSeconds must be at most one year")
    .nullable(),
  newPodGraceSeconds: z.number().int().min(0).max(86_400),
  reservationTtlSeconds: z.number().int().min(1, "reservationTtlSeconds must be at least 1").max(30 * 86_400),
  autoscale: z.boolean(),
  lostPodPolicy: z.enum(["fail", "requeue"]),
  maxAttempts: z.number().int().min(1).max(100),
  taskTimeoutSeconds: z
    .number()
    .int()
    .min(1, "taskTimeoutSeconds must be at least 1 (or null for no deadline)")
    .max(7 * 86_400, "taskTimeoutSeconds must be at most 7 days")
    .nullable(),
  timeoutPolicy: z.enum(["fail", "requeue"]),
  stopGraceSeconds: z.number().int().min(1, "stopGraceSeconds must be between 1 and 3600").max(3600, "stopGraceSeconds must be between 1 and 3600"),
  podPolicyOverride: z.boolean(),
  maxReservedFraction: z
    .number()
    .min(0, "maxReservedFraction must be between 0 and 1")
    .max(1, "maxReservedFraction must be between 0 and 1")
    .refine((n) => Number.isFinite(n), "maxReservedFraction must be between 0 and 1"),
};

export type PoolSpec = { [K in keyof typeof fields]: z.output<(typeof fields)[K]> } & {
  capacityWindows: CapacityWindow[];
  /** Declared task types (validated by parseTaskTypes); null: the built-in ones. */
  taskTypes: TaskTypeSpec[] | null;
};
export type PoolSpecInput = { name: string } & Partial<{ [K in Exclude<keyof PoolSpec, "capacityWindows" | "taskTypes">]: PoolSpec[K] | null | undefined }> & {
  capacityWindows?: CapacityWindowInput[] | null;
  /** As written: parseTaskTypes fills the defaults in. */
  taskTypes?: TaskTypeInput[] | null;
};

export const POOL_DEFAULTS: Omit<PoolSpec, "name"> = {
  runtime: "local",
  namespace: "default",
  image: null,
  podTemplate: null,
  slotsPerPod: 3,
  minPods: 0,
  maxPods: 10,
  scaleUpAt: 0.8,
  scaleDownAt: 0.2,
  scaleUpCooldownSeconds: 30,
  scaleDownCooldownSeconds: 120,
  stabilizationWindowSeconds: 60,
  maxStep: 2,
  scaleUpMaxStep: null,
  maxTasksPerPod: null,
  maxPodAgeSeconds: null,
  capacityWindows: [],
  newPodGraceSeconds: 60,
  reservationTtlSeconds: 86_400,
  autoscale: true,
  lostPodPolicy: "fail",
  maxAttempts: 3,
  taskTimeoutSeconds: 3600,
  timeoutPolicy: "fail",
  stopGraceSeconds: 30,
  podPolicyOverride: false,
  taskTypes: null,
  maxReservedFraction: 1,
};

/**
 * Validates a whole spec: each field, then the rules between fields
 * (min <= max, scaleDownAt < scaleUpAt) and that the runtime exists on this server.
 */
export function validatePoolSpec(spec: PoolSpec, availableRuntimes: readonly string[]): PoolSpec {
  for (const [key, schema] of Object.entries(fields)) {
    const result = (schema as z.ZodType).safeParse(spec[key as keyof PoolSpec]);
    if (!result.success) throw new PoolSpecError(key, result.error.issues[0]?.message ?? `${key} is invalid`);
  }
  spec = { ...spec, taskTypes: parseTaskTypes(spec.taskTypes) };
  if (!(RUNTIMES as readonly string[]).includes(spec.runtime)) {
    throw new PoolSpecError("runtime", `unknown runtime ${JSON.stringify(spec.runtime)}: expected one of ${RUNTIMES.join(", ")}`);
  }
  if (!availableRuntimes.includes(spec.runtime)) {
    throw new PoolSpecError("runtime", `runtime ${spec.runtime} is not available on this server (available: ${availableRuntimes.join(", ")})`);
  }
  if (spec.runtime === "kubernetes" && !spec.image && !spec.podTemplate) {
    throw new PoolSpecError("image", "a kubernetes pool needs an image or a podTemplate");
  }
  if (spec.minPods > spec.maxPods) throw new PoolSpecError("minPods", `minPods (${spec.minPods}) must not exceed maxPods (${spec.maxPods})`);
  if (spec.scaleDownAt >= spec.scaleUpAt) {
    throw new PoolSpecError("scaleDownAt", `scaleDownAt (${spec.scaleDownAt}) must be below scaleUpAt (${spec.scaleUpAt})`);
  }
  return { ...spec, capacityWindows: checkCapacityWindows(spec.capacityWindows, spec) };
}

/** Fields where null is a value of its own (not "use the default"): no task deadline, no bound, no limit, no declared task types. */
const NULL_MEANS_NONE = new Set(["taskTimeoutSeconds", "scaleUpMaxStep", "maxTasksPerPod", "maxPodAgeSeconds", "taskTypes"]);

/** Fills defaults for a new pool, dropping nulls (except where null means "none"). */
export function withDefaults(input: PoolSpecInput): PoolSpec {
  const out: Record<string, unknown> = { ...POOL_DEFAULTS };
  for (const [k, v] of Object.entries(input)) if (v !== undefined && (v !== null || NULL_MEANS_NONE.has(k))) out[k] = v;
  return out as PoolSpec;
}

/** Applies an update over the current spec; the name never changes. */
export function mergeSpec(current: PoolSpec, update: Partial<PoolSpecInput>): PoolSpec {
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(update)) if (k !== "name" && v !== undefined && (v !== null || NULL_MEANS_NONE.has(k))) out[k] = v;
  return out as PoolSpec;
}
