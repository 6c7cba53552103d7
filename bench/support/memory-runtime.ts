import type { PodRuntime, RuntimePod, RuntimePoolSpec } from "@berth/core/runtime";

/**
 * Pods that exist only in memory, always Running: the controller's pass is measured without
 * any process or cluster behind it. `seed` adds pods the database already knows.
 */
export class MemoryRuntime implements PodRuntime {
  readonly kind = "local" as const;
  readonly scope = "memory";
  readonly pods = new Map<string, RuntimePod>();
  calls = 0;

  seed(pool: string, names: readonly string[], createdAt = new Date()): void {
    for (const name of names) this.pods.set(name, { name, pool, phase: "Running", createdAt, labels: {} });
  }
  async list(pool: RuntimePoolSpec): Promise<RuntimePod[]> {
    this.calls++;
    return [...this.pods.values()].filter((p) => p.pool === pool.name);
  }
  async listAll(): Promise<RuntimePod[]> {
    this.calls++;
    return [...this.pods.values()];
  }
  async create(pool: RuntimePoolSpec, name: string): Promise<RuntimePod> {
    this.calls++;
    const pod: RuntimePod = this.pods.get(name) ?? { name, pool: pool.name, phase: "Running", createdAt: new Date(), labels: {} };
    this.pods.set(name, pod);
    return pod;
  }
  async delete(_pool: RuntimePoolSpec, name: string): Promise<void> {
    this.calls++;
    this.pods.delete(name);
  }
  async *watch(): AsyncIterable<never> {}
  async close(): Promise<void> {}
}
