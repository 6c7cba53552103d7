import { sleep } from "./backoff.js";
import type { PodRuntime, RuntimeEvent, RuntimePod, RuntimePoolSpec } from "./types.js";
import { deadlineSignal } from "./deadline.js";

export interface PodInformer {
  /** The pool's pods as the watch last said, or null until its first full list arrived. */
  snapshot(): RuntimePod[] | null;
  /** Ends the watch. */
  close(): void;
}

export interface InformerOptions {
  /** Told of every change after the first full list (not of the list itself). */
  onChange?: (event: Exclude<RuntimeEvent, { type: "resync" } | { type: "synced" }>) => void;
  /**
   * The watch is restarted (a full list again) this often, so that a cache that drifted from the
   * truth (an event the server never sent) is repaired. Default 10 minutes.
   */
  resyncMs?: number;
}

/**
 * A cache of one pool's runtime pods fed by the runtime's watch, as Kubernetes informers are:
 * a full list (`resync` … `synced`), then changes as they happen, and a full list again after a
 * watch error or every `resyncMs`. A reconcile pass reads it instead of listing the pods itself.
 */
export function startInformer(runtime: PodRuntime, pool: RuntimePoolSpec, options: InformerOptions = {}): PodInformer {
  const stop = new AbortController();
  let pods: Map<string, RuntimePod> | null = null;
  let building: Map<string, RuntimePod> | null = null;
  const resyncMs = options.resyncMs ?? 10 * 60_000;

  const apply = (event: RuntimeEvent) => {
    switch (event.type) {
      case "resync":
        building = new Map();
        return;
      case "synced":
        if (building) pods = building;
        building = null;
        return;
      case "added":
      case "modified":
        (building ?? pods)?.set(event.pod.name, event.pod);
        break;
      case "deleted":
        (building ?? pods)?.delete(event.pod.name);
        break;
    }
    if (!building && pods) options.onChange?.(event);
  };

  void (async () => {
    while (!stop.signal.aborted) {
      // One watch per round; a round ends at the resync interval (or when the watch itself ends).
      const deadline = deadlineSignal(resyncMs, stop.signal);
      const round = deadline.signal;
      try {
        for await (const event of runtime.watch(pool, round)) apply(event);
      } catch {
        // A watch that failed hard: the next round lists again.
      } finally {
        deadline.clear();
      }
      if (!stop.signal.aborted && !round.aborted) await sleep(1000, stop.signal);
    }
  })();

  return {
    snapshot: () => (pods ? [...pods.values()] : null),
    close: () => stop.abort(),
  };
}
