import { EventEmitter, on } from "node:events";
import { STATUS_CODES } from "node:http";
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { agentSecretName, createAgentSecrets, type AgentTokenIssuer } from "./agent-secrets.js";
import { createBackoff, sleep, type Backoff } from "./backoff.js";
import { KubernetesApiError, PodNameConflictError, RuntimeClosedError, assertPodName } from "./errors.js";
import { buildPodManifest, type AgentEnvOptions } from "./pod-manifest.js";
import {
  DELETION_COST_ANNOTATION,
  KUBERNETES_SCOPE,
  MANAGED_LABEL,
  POOL_LABEL,
  type PodRuntime,
  type RuntimeEvent,
  type RuntimePod,
  type RuntimePoolSpec,
} from "./types.js";

export interface KubernetesRuntimeOptions extends Omit<AgentEnvOptions, "agentTokenSecret"> {
  /** Defaults to `loadFromDefault()`: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account. */
  kubeConfig?: KubeConfig;
  /** Mints the agent tokens kept in each pool's Secret (see agent-secrets.ts). Without it pods get no token. */
  agentTokens?: AgentTokenIssuer;
  /** Delay before re-listing after a failed list or watch. Default 500 ms doubling up to 30 s. */
  watchBackoff?: Backoff;
  /** Asks the API server to end each watch call after this long (it is then resumed): default 240 s. */
  watchTimeoutSeconds?: number;
  /** Where pools' pods may live: `listAll` looks for orphans there. Default: `default`. */
  namespaces?: readonly string[];
}

/** Pod deletion cost for a pod with this many busy slots: a busier pod is more expensive to remove. */
export class InvalidDeletionCostError extends Error {
  constructor(readonly busySlots: number) {
    super(`busySlots must be a non-negative integer, got ${busySlots}`);
    this.name = "InvalidDeletionCostError";
  }
}

type WatchItem = { type: string; object: V1Pod & { code?: number; reason?: string } } | { done: true; error: unknown };

/** Real Pods through the Kubernetes API. Every call names the pool's namespace and label selector. */
export function createKubernetesRuntime(options: KubernetesRuntimeOptions): PodRuntime {
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const watcher = new Watch(kubeConfig);
  const closed = new AbortController();
  const backoffSpec = options.watchBackoff ?? { initialMs: 500, maxMs: 30_000 };
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 240;
  const secrets = options.agentTokens ? createAgentSecrets(core, options.agentTokens) : null;

  async function listPods(pool: RuntimePoolSpec) {
    const list = await call("list pods", () => core.listNamespacedPod({ namespace: pool.namespace, labelSelector: selector(pool) }));
    return { pods: list.items.map((p) => toRuntimePod(p, pool)), resourceVersion: list.metadata?.resourceVersion };
  }

  async function* streamWatch(pool: RuntimePoolSpec, resourceVersion: string, signal: AbortSignal): AsyncGenerator<WatchItem> {
    const emitter = new EventEmitter();
    const items = on(emitter, "item", { signal });
    const path = `/api/v1/namespaces/${encodeURIComponent(pool.namespace)}/pods`;
    const query = { labelSelector: selector(pool), resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds };
    const request = await watcher.watch(
      path,
      query,
      (type, object) => emitter.emit("item", { type, object }),
      (error) => emitter.emit("item", { done: true, error }),
    );
    try {
      for await (const [item] of items as AsyncIterable<[WatchItem]>) {
        yield item;
        if ("done" in item) return;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      request.abort();
    }
  }

  const namespaces = [...new Set(options.namespaces ?? ["default"])];

  return {
    kind: "kubernetes",
    scope: KUBERNETES_SCOPE,

    async list(pool) {
      return (await listPods(pool)).pods;
    },

    async listAll() {
      const all: RuntimePod[] = [];
      for (const namespace of namespaces) {
        const list = await call("list pods", () => core.listNamespacedPod({ namespace, labelSelector: `${MANAGED_LABEL}=true` }));
        for (const pod of list.items) all.push(toRuntimePod(pod, { name: pod.metadata?.labels?.[POOL_LABEL] ?? "", namespace, image: null, podTemplate: null, slotsPerPod: 0 }));
      }
      return all;
    },

    async create(pool, podName) {
      assertPodName(podName);
      if (closed.signal.aborted) throw new RuntimeClosedError("create a pod");
      const agent = { apiUrl: options.apiUrl, heartbeatMs: options.heartbeatMs };
      // Built once before the token is chosen: a pool that cannot give a pod mints nothing.
      let body = buildPodManifest(pool, podName, agent);
      if (secrets) body = buildPodManifest(pool, podName, { ...agent, agentTokenSecret: { name: agentSecretName(pool.name), key: await secrets.tokenKey(pool) } });
      try {
        return toRuntimePod(await core.createNamespacedPod({ namespace: pool.namespace, body }), pool);
      } catch (error) {
        if (statusOf(error) !== 409) throw toApiError("create pod", error);
      }
      // Same name already there: idempotent when it is this pool's pod.
      const existing = await call("read pod", () => core.readNamespacedPod({ name: podName, namespace: pool.namespace }));
      assertOwnedBy(existing, pool, podName);
      return toRuntimePod(existing, pool);
    },

    async delete(pool, podName) {
      assertPodName(podName);
      let existing: V1Pod;
      try {
        existing = await core.readNamespacedPod({ name: podName, namespace: pool.namespace });
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw toApiError("read pod", error);
      }
      assertOwnedBy(existing, pool, podName);
      try {
        // The uid precondition makes sure the pod deleted is the one just checked, not a namesake created since.
        await core.deleteNamespacedPod({ name: podName, namespace: pool.namespace, body: { preconditions: { uid: existing.metadata?.uid } } });
      } catch (error) {
        if (statusOf(error) !== 404) throw toApiError("delete pod", error);
      }
    },

    async setDeletionCost(pool, podName, busySlots) {
      assertPodName(podName);
      if (!Number.isInteger(busySlots) || busySlots < 0) throw new InvalidDeletionCostError(busySlots);
      const body = { metadata: { annotations: { [DELETION_COST_ANNOTATION]: String(busySlots) } } };
      try {
        await core.patchNamespacedPod({ name: podName, namespace: pool.namespace, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      } catch (error) {
        // A pod that is gone needs no cost.
        if (statusOf(error) !== 404) throw toApiError("patch pod", error);
      }
    },

    async pruneAgentTokens(pool) {
      return secrets ? secrets.prune(pool) : 0;
    },

    async releasePool(pool) {
      await secrets?.remove(pool);
    },

    async *watch(pool, signal): AsyncGenerator<RuntimeEvent> {
      const stop = AbortSignal.any([signal, closed.signal]);
      const backoff = createBackoff(backoffSpec);
      let resourceVersion: string | undefined;
      while (!stop.aborted) {
        if (resourceVersion === undefined) {
          try {
            const listed = await listPods(pool);
            resourceVersion = listed.resourceVersion ?? "0";
            yield { type: "resync" };
            for (const pod of listed.pods) yield { type: "added", pod };
            yield { type: "synced" };
          } catch {
            if (!(await sleep(backoff.take(), stop))) return;
            continue;
          }
        }
        let relist = false;
        try {
          for await (const item of streamWatch(pool, resourceVersion, stop)) {
            if ("done" in item) {
              // The client's inactivity timeout or the server ending the call: resume from where we were.
              relist = Boolean(item.error) && !isTimeout(item.error);
              break;
            }
            backoff.reset();
            const next = item.object.metadata?.resourceVersion;
            if (item.type === "ERROR") {
              // 410 Gone (our resourceVersion was compacted away) or any other failure: start over.
              relist = true;
              break;
            }
            if (next) resourceVersion = next;
            // A pod gone for good may have held the last reference to an older agent token.
            if (item.type === "DELETED") void secrets?.prune(pool).catch(() => {});
            if (item.type === "ADDED" || item.type === "MODIFIED" || item.type === "DELETED") {
              yield { type: item.type.toLowerCase() as "added" | "modified" | "deleted", pod: toRuntimePod(item.object, pool) };
            }
          }
        } catch {
          relist = true;
        }
        if (relist && !stop.aborted) {
          resourceVersion = undefined;
          if (!(await sleep(backoff.take(), stop))) return;
        }
      }
    },

    async close() {
      closed.abort();
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

function selector(pool: RuntimePoolSpec): string {
  return `${POOL_LABEL}=${pool.name},${MANAGED_LABEL}=true`;
}

function assertOwnedBy(pod: V1Pod, pool: RuntimePoolSpec, podName: string): void {
  const labels = pod.metadata?.labels ?? {};
  if (labels[POOL_LABEL] !== pool.name || labels[MANAGED_LABEL] !== "true") {
    throw new PodNameConflictError(podName, pool.name, labels[MANAGED_LABEL] === "true" ? labels[POOL_LABEL] : undefined);
  }
}

const PHASES = new Set<RuntimePod["phase"]>(["Pending", "Running", "Succeeded", "Failed", "Unknown"]);

function toRuntimePod(pod: V1Pod, pool: RuntimePoolSpec): RuntimePod {
  const metadata = pod.metadata ?? {};
  const phase = pod.status?.phase;
  // Typed API responses carry Dates; raw watch events carry the wire format's strings.
  const created = metadata.creationTimestamp as Date | string | undefined;
  return {
    name: metadata.name ?? "",
    pool: metadata.labels?.[POOL_LABEL] ?? pool.name,
    namespace: metadata.namespace ?? pool.namespace,
    phase: phase === undefined ? "Pending" : PHASES.has(phase as RuntimePod["phase"]) ? (phase as RuntimePod["phase"]) : "Unknown",
    createdAt: created === undefined ? new Date() : new Date(created),
    labels: { ...metadata.labels },
    terminating: Boolean(metadata.deletionTimestamp),
    deletionCost: parseCost(metadata.annotations?.[DELETION_COST_ANNOTATION]),
  };
}

function parseCost(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

function toApiError(operation: string, error: unknown): unknown {
  if (!(error instanceof ApiException)) return error;
  // The generated client keeps the Status body only for codes its spec does not list.
  const body = parseStatus(error.body);
  return new KubernetesApiError(operation, error.code, body?.reason, body?.message ?? STATUS_CODES[error.code] ?? "unknown status");
}

function parseStatus(body: unknown): { reason?: string; message?: string } | undefined {
  try {
    const value = typeof body === "string" ? JSON.parse(body) : body;
    return typeof value === "object" && value !== null ? (value as { reason?: string; message?: string }) : undefined;
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "TimeoutError";
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toApiError(operation, error);
  }
}
