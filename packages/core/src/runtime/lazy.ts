import { RuntimeClosedError } from "./errors.js";
import type { PodRuntime } from "./types.js";

/**
 * A runtime whose implementation is loaded on its first use. The Kubernetes client alone costs
 * about 50 MiB of memory and half a second at start-up: a replica that has no pool on that
 * runtime (yet) does not pay for it.
 */
export function lazyRuntime(kind: PodRuntime["kind"], scope: string, load: () => Promise<PodRuntime>): PodRuntime {
  let loaded: Promise<PodRuntime> | undefined;
  let closed = false;
  const runtime = (operation: string) => {
    if (closed && !loaded) return Promise.reject(new RuntimeClosedError(operation));
    return (loaded ??= load());
  };
  return {
    kind,
    scope,
    list: async (pool) => (await runtime("list pods")).list(pool),
    // Nothing loaded means no pool has used this runtime in this process: nothing to look for yet.
    listAll: async () => (loaded ? (await loaded).listAll() : []),
    create: async (pool, podName) => (await runtime("create a pod")).create(pool, podName),
    delete: async (pool, podName) => (await runtime("delete a pod")).delete(pool, podName),
    setDeletionCost: async (pool, podName, busySlots) => {
      await (await runtime("set a deletion cost")).setDeletionCost?.(pool, podName, busySlots);
    },
    pruneAgentTokens: async (pool) => (await runtime("prune agent tokens")).pruneAgentTokens?.(pool) ?? 0,
    releasePool: async (pool) => {
      await (await runtime("release a pool")).releasePool?.(pool);
    },
    async *watch(pool, signal) {
      if (closed && !loaded) return;
      yield* (await runtime("watch pods")).watch(pool, signal);
    },
    async close() {
      closed = true;
      if (loaded) await (await loaded).close();
    },
  };
}
