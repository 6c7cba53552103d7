import type { KubeConfig } from "@kubernetes/client-node";
import type { BerthConfig } from "../cluster/index.js";
import type { AgentTokenIssuer } from "./agent-secrets.js";
import { lazyRuntime } from "./lazy.js";
import { createLocalRuntime } from "./local.js";
import type { PodRuntime } from "./types.js";

export type { PodRuntime, RuntimeEvent, RuntimePod, RuntimePoolSpec } from "./types.js";
export { DELETION_COST_ANNOTATION, MANAGED_LABEL, POOL_LABEL } from "./types.js";
export { InvalidPodNameError, InvalidPodSpecError, KubernetesApiError, PodNameConflictError, PodStartError, RuntimeClosedError } from "./errors.js";
export { createLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "./local.js";
// The Kubernetes runtime itself is loaded on first use (see createRuntime); import it from "@berth/core/runtime/kubernetes".
export type { KubernetesRuntimeOptions } from "./kubernetes.js";
export { buildPodManifest, AGENT_CONTAINER, DEFAULT_AGENT_RESOURCES, type AgentEnvOptions } from "./pod-manifest.js";
export type { AgentTokenIssuer } from "./agent-secrets.js";
export { AgentClient, GraphQLRequestError, graphqlEndpoint, type AgentClientOptions, type AssignedTask, type MutationResult, type ReportedStatus } from "./agent-client.js";
export { AgentConfigError, demoAgentOptionsFromEnv, startDemoAgent, type DemoAgent, type DemoAgentOptions } from "./demo-agent.js";

export interface RuntimeDeps {
  /** The API URL agents call (`BERTH_API_URL`). */
  apiUrl: string;
  /** A pool's agent token for local pods (in their environment). */
  agentToken: (pool: string) => Promise<string>;
  /** `kubernetes`: mints the agent tokens kept in each pool's Secret. */
  agentTokens?: AgentTokenIssuer;
  /** `local`: where each pod's output goes (`<logDir>/<pod>.log`). */
  logDir?: string;
  /** `BERTH_HEARTBEAT_MS` for the agents. */
  heartbeatMs?: number;
  /** `kubernetes`: the cluster to talk to (default: kubeconfig or in-cluster service account). */
  kubeConfig?: KubeConfig;
}

/** The runtime the configuration chose (`POD_RUNTIME`, or the detected cluster mode). */
export function createRuntime(config: Pick<BerthConfig["runtime"], "type" | "namespace">, deps: RuntimeDeps): PodRuntime {
  if (config.type === "kubernetes") {
    return lazyRuntime("kubernetes", async () =>
      (await import("./kubernetes.js")).createKubernetesRuntime({
        apiUrl: deps.apiUrl,
        heartbeatMs: deps.heartbeatMs,
        kubeConfig: deps.kubeConfig,
        agentTokens: deps.agentTokens,
      }),
    );
  }
  return createLocalRuntime({ apiUrl: deps.apiUrl, agentToken: deps.agentToken, logDir: deps.logDir, heartbeatMs: deps.heartbeatMs });
}
