/** A pod name that Kubernetes (and so every runtime) would refuse: not a DNS-1123 label. */
export class InvalidPodNameError extends Error {
  constructor(readonly podName: string) {
    super(`pod name ${JSON.stringify(podName)} is not a DNS-1123 label (a-z, 0-9, '-', at most 63 characters)`);
    this.name = "InvalidPodNameError";
  }
}

/** The pool says too little (or something unusable) to build a pod from. */
export class InvalidPodSpecError extends Error {
  constructor(
    readonly pool: string,
    readonly reason: string,
  ) {
    super(`pool ${pool}: cannot build a pod: ${reason}`);
    this.name = "InvalidPodSpecError";
  }
}

/** A pod of that name exists but does not belong to the pool that asked for it. */
export class PodNameConflictError extends Error {
  constructor(
    readonly podName: string,
    readonly pool: string,
    readonly ownerPool: string | undefined,
  ) {
    super(`pod ${podName} already exists and belongs to ${ownerPool ? `pool ${ownerPool}` : "nothing Berth manages"}, not pool ${pool}`);
    this.name = "PodNameConflictError";
  }
}

/** The local runtime could not start the pod's process. */
export class PodStartError extends Error {
  constructor(
    readonly podName: string,
    override readonly cause: unknown,
  ) {
    super(`pod ${podName} did not start: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "PodStartError";
  }
}

/** The runtime was closed: it starts nothing more. */
export class RuntimeClosedError extends Error {
  constructor(readonly operation: string) {
    super(`runtime is closed: cannot ${operation}`);
    this.name = "RuntimeClosedError";
  }
}

/** The Kubernetes API answered a call with an error status. */
export class KubernetesApiError extends Error {
  constructor(
    readonly operation: string,
    readonly statusCode: number,
    readonly reason: string | undefined,
    detail: string,
  ) {
    super(`${operation} failed with HTTP ${statusCode}${reason ? ` (${reason})` : ""}: ${detail}`);
    this.name = "KubernetesApiError";
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function assertPodName(podName: string): void {
  if (podName.length > 63 || !DNS1123_LABEL.test(podName)) throw new InvalidPodNameError(podName);
}
