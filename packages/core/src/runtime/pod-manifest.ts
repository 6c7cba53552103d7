import type { V1Container, V1EnvVar, V1ObjectMeta, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import { InvalidPodSpecError } from "./errors.js";
import { DELETION_COST_ANNOTATION, MANAGED_LABEL, POOL_LABEL, type RuntimePoolSpec } from "./types.js";

/** The container that runs the agent: found by this name in a pool's template, never by position. */
export const AGENT_CONTAINER = "agent";

/** Resources of the agent container Berth writes for a pool that gives only an image. */
export const DEFAULT_AGENT_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };

export interface AgentEnvOptions {
  /** What the agent calls: `BERTH_API_URL`. */
  apiUrl: string;
  /** `BERTH_HEARTBEAT_MS`; the agent's default (5000) when absent. */
  heartbeatMs?: number;
  /** `BERTH_AGENT_TOKEN` from this Secret key in the pool's namespace: the token never appears in the pod spec. */
  agentTokenSecret?: { name: string; key: string };
}

/**
 * The Pod for `podName` in `pool`: the pool's `podTemplate` (a PodTemplateSpec `{metadata, spec}`
 * or a bare PodSpec) when given, its `image` on the container named `agent` (added, with
 * DEFAULT_AGENT_RESOURCES, when the template has no container), then what Berth relies on
 * written over it: name, namespace, labels, agent env, `restartPolicy: Never` (a finished agent
 * is a finished pod; the reconcile loop decides about replacements). Restricted by default: no
 * service account token, non-root, RuntimeDefault seccomp, no privilege escalation and every
 * capability dropped, wherever the template does not say otherwise (the pod policy decided what
 * it may say before the pool was stored).
 */
export function buildPodManifest(pool: RuntimePoolSpec, podName: string, agent: AgentEnvOptions): V1Pod {
  const template = readTemplate(pool);
  const spec: V1PodSpec = template.spec;
  spec.containers = spec.containers ?? [];
  let container = spec.containers.find((c) => c.name === AGENT_CONTAINER);
  if (!container) {
    if (spec.containers.length > 0) throw new InvalidPodSpecError(pool.name, `the pod template has no container named ${JSON.stringify(AGENT_CONTAINER)}`);
    container = { name: AGENT_CONTAINER, resources: structuredClone(DEFAULT_AGENT_RESOURCES) } as V1Container;
    spec.containers.push(container);
  }
  if (pool.image) container.image = pool.image;
  if (!container.image) throw new InvalidPodSpecError(pool.name, "neither the pool's image nor its pod template gives the agent container an image");

  const ours = agentEnv(pool, agent);
  const names = new Set(ours.map((e) => e.name));
  container.env = [...(container.env ?? []).filter((e) => !names.has(e.name)), ...ours];
  spec.restartPolicy = "Never";
  restrict(spec);

  const metadata: V1ObjectMeta = {
    name: podName,
    namespace: pool.namespace,
    labels: { ...template.metadata?.labels, [POOL_LABEL]: pool.name, [MANAGED_LABEL]: "true" },
    // A new pod has no busy slot yet: cheapest to remove.
    annotations: { ...template.metadata?.annotations, [DELETION_COST_ANNOTATION]: "0" },
  };
  return { apiVersion: "v1", kind: "Pod", metadata, spec };
}

function agentEnv(pool: RuntimePoolSpec, agent: AgentEnvOptions): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: "BERTH_API_URL", value: agent.apiUrl },
    { name: "BERTH_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "BERTH_POOL", value: pool.name },
    { name: "BERTH_SLOTS", value: String(pool.slotsPerPod) },
  ];
  if (agent.heartbeatMs !== undefined) env.push({ name: "BERTH_HEARTBEAT_MS", value: String(agent.heartbeatMs) });
  if (agent.agentTokenSecret) {
    env.push({ name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: agent.agentTokenSecret.name, key: agent.agentTokenSecret.key } } });
  }
  return env;
}

/** The restricted defaults, under whatever the template sets. */
function restrict(spec: V1PodSpec): void {
  spec.automountServiceAccountToken ??= false;
  spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, ...spec.securityContext };
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const own = c.securityContext ?? {};
    // The API server refuses allowPrivilegeEscalation: false beside privileged or CAP_SYS_ADMIN (admin overrides).
    const escalates = own.privileged === true || (own.capabilities?.add ?? []).some((cap) => cap.replace(/^CAP_/, "") === "SYS_ADMIN");
    c.securityContext = { ...(escalates ? {} : { allowPrivilegeEscalation: false }), ...own, capabilities: { drop: ["ALL"], ...own.capabilities } };
  }
}

function readTemplate(pool: RuntimePoolSpec): { metadata?: V1ObjectMeta; spec: V1PodSpec } {
  const raw = pool.podTemplate;
  if (raw === null || raw === undefined) return { spec: { containers: [] } };
  if (typeof raw !== "object" || Array.isArray(raw)) throw new InvalidPodSpecError(pool.name, "podTemplate must be an object");
  // Copied: the pool's template is shared by every pod built from it.
  const copy = structuredClone(raw) as Record<string, unknown>;
  if (isObject(copy.spec)) {
    if (copy.metadata !== undefined && !isObject(copy.metadata)) throw new InvalidPodSpecError(pool.name, "podTemplate.metadata must be an object");
    return { metadata: copy.metadata as V1ObjectMeta | undefined, spec: withContainerList(pool, copy.spec) };
  }
  if ("containers" in copy) return { spec: withContainerList(pool, copy) };
  throw new InvalidPodSpecError(pool.name, "podTemplate must be a PodTemplateSpec ({ metadata, spec }) or a PodSpec ({ containers })");
}

function withContainerList(pool: RuntimePoolSpec, spec: Record<string, unknown>): V1PodSpec {
  const containers = spec.containers ?? [];
  if (!Array.isArray(containers) || !containers.every(isObject)) throw new InvalidPodSpecError(pool.name, "podTemplate containers must be a list of objects");
  return { ...spec, containers } as unknown as V1PodSpec;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
