/** What a runtime knows of a pod it runs. */
export interface RuntimePod {
  name: string;
  pool: string;
  /** Kubernetes: the pod's namespace. */
  namespace?: string;
  /** Runtime's own view: `Pending` until the container starts, `Running`, then `Succeeded`/`Failed`. */
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  createdAt: Date;
  labels: Record<string, string>;
  /** Deletion has begun (Kubernetes `deletionTimestamp`, or SIGTERM sent): count it as going, not as capacity. */
  terminating?: boolean;
  /** The pod's `pod-deletion-cost` as the runtime holds it, where the runtime keeps one. */
  deletionCost?: number;
}

export interface RuntimePoolSpec {
  name: string;
  namespace: string;
  image: string | null;
  podTemplate: unknown;
  slotsPerPod: number;
}

/**
 * `resync` comes first and again whenever the watch had to re-list (errors, 410 Gone): the
 * `added` events that follow it are the pool's complete list, ended by `synced`, so a pod not
 * repeated is gone.
 */
export type RuntimeEvent = { type: "added" | "modified" | "deleted"; pod: RuntimePod } | { type: "resync" } | { type: "synced" };

/**
 * Where pods actually run. `local`: child processes running the agent (`@berth/agent`);
 * `kubernetes`: real Pods. Names are chosen by the caller (deterministic); deleting a pod
 * that is already gone is success.
 */
export interface PodRuntime {
  readonly kind: "local" | "kubernetes";
  /**
   * Which pods this runtime instance can see: every runtime instance with the same scope lists
   * the same pods. `kubernetes`: the cluster. `local`: the machine and pod directory, so replicas
   * sharing one directory see each other's pods and replicas with their own do not. A pod is
   * judged by its absence from `list` only by a runtime of its own scope.
   */
  readonly scope: string;
  list(pool: RuntimePoolSpec): Promise<RuntimePod[]>;
  /** Every pod labelled as Berth's that this runtime can see, of any pool (to find orphans). */
  listAll(): Promise<RuntimePod[]>;
  create(pool: RuntimePoolSpec, podName: string): Promise<RuntimePod>;
  delete(pool: RuntimePoolSpec, podName: string): Promise<void>;
  /** Keeps the pod's deletion cost in step with its busy slots (Kubernetes annotation). */
  setDeletionCost?(pool: RuntimePoolSpec, podName: string, busySlots: number): Promise<void>;
  /** Revokes the pool's agent tokens that no pod refers to any more (Kubernetes Secrets); returns how many it removed. */
  pruneAgentTokens?(pool: RuntimePoolSpec): Promise<number>;
  /** Removes what the runtime keeps for a deleted pool besides its pods (the agent token Secret). */
  releasePool?(pool: RuntimePoolSpec): Promise<void>;
  /** Streams pod changes; re-lists after errors. Ends when `signal` aborts. */
  watch(pool: RuntimePoolSpec, signal: AbortSignal): AsyncIterable<RuntimeEvent>;
  close(): Promise<void>;
}

/** The scope of the Kubernetes runtime: every replica of one installation talks to the same cluster. */
export const KUBERNETES_SCOPE = "kubernetes";

export const POOL_LABEL = "berth.dev/pool";
export const MANAGED_LABEL = "berth.dev/managed";
export const DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
