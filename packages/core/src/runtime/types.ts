/** What a runtime knows of a pod it runs. */
export interface RuntimePod {
  name: string;
  pool: string;
  /** Runtime's own view: `Pending` until the container starts, `Running`, then `Succeeded`/`Failed`. */
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  createdAt: Date;
  labels: Record<string, string>;
  /** Deletion has begun (Kubernetes `deletionTimestamp`, or SIGTERM sent): count it as going, not as capacity. */
  terminating?: boolean;
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
 * `added` events that follow it are the pool's complete list, so a pod not repeated is gone.
 */
export type RuntimeEvent = { type: "added" | "modified" | "deleted"; pod: RuntimePod } | { type: "resync" };

/**
 * Where pods actually run. `local`: child processes running the bundled demo agent;
 * `kubernetes`: real Pods. Names are chosen by the caller (deterministic); deleting a pod
 * that is already gone is success.
 */
export interface PodRuntime {
  readonly kind: "local" | "kubernetes";
  list(pool: RuntimePoolSpec): Promise<RuntimePod[]>;
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

export const POOL_LABEL = "berth.dev/pool";
export const MANAGED_LABEL = "berth.dev/managed";
export const DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
