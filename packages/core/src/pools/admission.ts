import { isDeepStrictEqual } from "node:util";
import type { ApiRole } from "../db/index.js";
import { ForbiddenError, ValidationError } from "../errors.js";
import { AGENT_CONTAINER } from "../runtime/pod-manifest.js";
import { podPolicyViolations, templatePodSpec, type PodPolicy, type PodPolicyViolation } from "./pod-policy.js";
import { PoolSpecError, type PoolSpec } from "./spec.js";
import { admitTaskTypes } from "./task-types.js";

/** The pod template breaks the pod policy; `field` is the first offending field, `violations` all of them. */
export class PodPolicyError extends ValidationError {
  constructor(readonly violations: PodPolicyViolation[]) {
    const [first] = violations;
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more: ${violations.slice(1).map((v) => v.field).join(", ")})` : "";
    super(first!.field, `the pod template breaks the pod policy at ${first!.field}: ${first!.reason}${more}; only an admin may allow it, with podPolicyOverride`);
  }
}

/** Someone other than an admin tried to relax a pool's pod policy. */
export class PodPolicyOverrideError extends ForbiddenError {
  constructor(readonly pool: string) {
    super(`only an admin may set podPolicyOverride (pool ${pool})`);
  }
}

/** What a cluster allows pools: where they may run and what their pods may do. */
export interface PoolAdmissionConfig {
  /** Namespace of a new pool that names none. */
  defaultNamespace: string;
  /** Namespaces a `kubernetes` pool may use (Berth's Role is bound in each). */
  namespaces: readonly string[];
  podPolicy: PodPolicy;
}

export const DEFAULT_ADMISSION: PoolAdmissionConfig = { defaultNamespace: "default", namespaces: ["default"], podPolicy: { serviceAccounts: ["default"] } };

/** Who asks for a pool to be created or changed. Unknown callers get an operator's rights. */
export interface PoolActor {
  role: ApiRole;
}

/**
 * Checks a pool spec about to be stored (created, or `previous` updated), before anything is
 * written. Throws PoolSpecError (namespace outside the allowed list, a template without the
 * agent container), LocalCommandsForbiddenError (a non-admin sets commands on a local pool), PodPolicyOverrideError (a non-admin sets the override) or PodPolicyError
 * (the template breaks the policy and no admin override covers it). Returns the violations an
 * admin's override lets through when this change sets the override or changes the template under
 * it, so the caller records them in the pool's events; null when there is nothing to record.
 */
export function admitPoolSpec(spec: PoolSpec, options: { actor?: PoolActor; previous?: PoolSpec; config: PoolAdmissionConfig }): PodPolicyViolation[] | null {
  const { actor, previous, config } = options;
  requireAgentContainer(spec.podTemplate);
  if (spec.runtime === "kubernetes" && !config.namespaces.includes(spec.namespace)) {
    throw new PoolSpecError("namespace", `namespace ${JSON.stringify(spec.namespace)} is not one pools may use (BERTH_POOL_NAMESPACES: ${config.namespaces.join(", ")})`);
  }
  const admin = actor?.role === "admin";
  admitTaskTypes(spec, previous, actor?.role);
  const overrideSet = spec.podPolicyOverride && !previous?.podPolicyOverride;
  if (overrideSet && !admin) throw new PodPolicyOverrideError(spec.name);

  const templateChanged = !previous || !isDeepStrictEqual(previous.podTemplate, spec.podTemplate);
  const violations = podPolicyViolations(spec.podTemplate, config.podPolicy);
  // An operator may change other settings of a pool an admin let through, but a template they
  // write must comply on its own.
  const covered = spec.podPolicyOverride && (admin || !templateChanged);
  if (violations.length > 0 && !covered) throw new PodPolicyError(violations);
  return admin && spec.podPolicyOverride && (overrideSet || templateChanged) ? violations : null;
}

/** A template with containers must name one `agent`: Berth finds its agent by name, never by position. */
function requireAgentContainer(template: Record<string, unknown> | null): void {
  if (!template) return;
  const { spec, path } = templatePodSpec(template);
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length > 0 && !containers.some((c) => typeof c === "object" && c !== null && (c as { name?: unknown }).name === AGENT_CONTAINER)) {
    throw new PoolSpecError(`${path}.containers`, `a pod template with containers must include one named ${JSON.stringify(AGENT_CONTAINER)}: Berth runs its agent there`);
  }
}

/** The reason line of a `policy_override` event. */
export function describeOverride(violations: PodPolicyViolation[]): string {
  if (violations.length === 0) return "an admin set podPolicyOverride: the pod template currently breaks no rule of the pod policy";
  return `an admin's podPolicyOverride lets the pod template break the pod policy at ${violations.map((v) => v.field).join(", ")}`.slice(0, 1000);
}
