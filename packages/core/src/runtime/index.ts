import type { KubeConfig } from "@kubernetes/client-node";
import type { BerthConfig } from "../cluster/index.js";
import type { AgentTokenIssuer } from "./agent-secrets.js";
import { lazyRuntime } from "./lazy.js";
import { KUBERNETES_SCOPE } from "./types.js";
import { createLocalRuntime } from "./local.js";
import type { PodRuntime } from "./types.js";

export type { PodRuntime, RuntimeEvent, RuntimePod, RuntimePoolSpec } from "./types.js";
export { DELETION_COST_ANNOTATION, MANAGED_LABEL, POOL_LABEL } from "./types.js";
export { InvalidPodNameError, InvalidPodSpecError, KubernetesApiError, PodNameConflictError, PodStartError, RuntimeClosedError } from "./errors.js";
export { createLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "./local.js";
export { guardBusyPodDeletion, busyPodDeletions, BusyPodDeletionError } from "./busy-guard.js";
// The Kubernetes runtime itself is loaded on first use (see createRuntime); import it from "@berth/core/runtime/kubernetes".
export type { KubernetesRuntimeOptions } from "./kubernetes.js";
export { buildPodManifest, AGENT_CONTAINER, DEFAULT_AGENT_RESOURCES, type AgentEnvOptions } from "./pod-manifest.js";
export type { AgentTokenIssuer } from "./agent-secrets.js";
export { AgentClient, GraphQLRequestError, graphqlEndpoint, mustExit, type AgentClientOptions, type AgentSyncAnswer, type AssignedTask, type MutationResult, type ReportedStatus, type TaskDefinition } from "./agent-client.js";

export interface RuntimeDeps {
  /** The API URL agents call (`BERTH_API_URL`). */
  apiUrl: string;
  /** A pool's agent token for local pods (in their environment). */
  agentToken: (pool: string) => Promise<string>;
  /** `local`: the pod directory (records, logs, token files); pods outlive the API process. */
  podDir?: string;
  /** `kubernetes`: the namespaces pools' pods may live in (where orphans are looked for). */
  namespaces?: readonly string[];
  /** `kubernetes`: mints the agent tokens kept in each pool's Secret. */
  agentTokens?: AgentTokenIssuer;
  /** `BERTH_HEARTBEAT_MS` for the agents. */
  heartbeatMs?: number;
  /** `kubernetes`: the cluster to talk to (default: kubeconfig or in-cluster service account). */
  kubeConfig?: KubeConfig;
}

/** The runtime the configuration chose (`POD_RUNTIME`, or the detected cluster mode). */
export function createRuntime(config: Pick<BerthConfig["runtime"], "type" | "namespace">, deps: RuntimeDeps): PodRuntime {
  if (config.type === "kubernetes") {
    return lazyRuntime("kubernetes", KUBERNETES_SCOPE, async () =>
      (await import("./kubernetes.js")).createKubernetesRuntime({
        apiUrl: deps.apiUrl,
        heartbeatMs: deps.heartbeatMs,
        kubeConfig: deps.kubeConfig,
        agentTokens: deps.agentTokens,
        namespaces: deps.namespaces ?? [config.namespace],
      }),
    );
  }
  return createLocalRuntime({ apiUrl: deps.apiUrl, agentToken: deps.agentToken, podDir: deps.podDir, heartbeatMs: deps.heartbeatMs });
}
