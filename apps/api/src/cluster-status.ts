import type { Services } from "./services.js";
import { withTimeout } from "./http.js";

/** Each dependency gets this long to answer the cluster page's check. */
export const SERVICE_CHECK_TIMEOUT_MS = 2_000;

export interface ServiceStatus {
  name: "database" | "redis" | "storage";
  /** What serves it: pglite or postgres; redis or memory (none); local or minio. */
  backend: string;
  /** ok, down (did not answer or failed), or unused (this mode needs none). */
  status: "ok" | "down" | "unused";
  message: string;
  latencyMs: number | null;
}

async function probe(name: ServiceStatus["name"], backend: string, check: () => Promise<unknown>): Promise<ServiceStatus> {
  const started = performance.now();
  try {
    await withTimeout(check(), SERVICE_CHECK_TIMEOUT_MS, name);
    return { name, backend, status: "ok", message: "answering", latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { name, backend, status: "down", message: String((error as Error)?.message ?? error).split("\n")[0]!.slice(0, 300), latencyMs: null };
  }
}

/** Database, Redis and storage, checked at once, each within SERVICE_CHECK_TIMEOUT_MS. */
export function checkClusterServices(services: Services): Promise<ServiceStatus[]> {
  const redis = services.redis;
  return Promise.all([
    probe("database", services.db.kind, () => services.db.ping()),
    redis
      ? probe("redis", "redis", () => redis.ping())
      : Promise.resolve<ServiceStatus>({ name: "redis", backend: "none", status: "unused", message: "locks and events are in this process", latencyMs: null }),
    // A stat of a key nobody writes: answers "absent" when the backend is up.
    probe("storage", services.storage.backend, () => services.storage.exists(".berth-status-probe")),
  ]);
}
