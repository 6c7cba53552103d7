import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op } from "./support/contract.js";

const JOB = "reconcile-pools";

/** Refuses to create pods for the pools named in `refuse`. */
class PickyRuntime extends FakeRuntime {
  refuse = new Set<string>();
  override async create(...args: Parameters<FakeRuntime["create"]>) {
    if (this.refuse.has(args[0].name)) throw new Error("runtime refused");
    return super.create(...args);
  }
}

describe("the reconcile-pools cron job", () => {
  let api: TestApi;
  const runtime = new PickyRuntime();
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", runtime });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  async function runOnce() {
    const triggered = await api.gql(op("TriggerCronJob"), { name: JOB });
    const id = (triggered.data.triggerCronJob as { data: { id: string } }).data.id;
    let run: { id: string; status: string; error: string | null } | undefined;
    await vi.waitFor(async () => {
      const runs = (await api.gql(op("CronRuns"), { job: JOB, first: 20 })).data.cronRuns as { id: string; status: string; error: string | null }[];
      run = runs.find((r) => r.id === id);
      expect(run?.status).toMatch(/succeeded|failed/);
    });
    return run!;
  }

  it("a pool whose runtime refuses to create pods fails the run, named with the reason; the pools after it still get their pass", async () => {
    // "a-refused" sorts first: its failure must not stop the pass before "b-fine".
    await api.services.pools.createPool({ name: "a-refused", minPods: 1, maxPods: 2 });
    await api.services.pools.createPool({ name: "b-fine", minPods: 1, maxPods: 2 });
    runtime.refuse.add("a-refused");
    const failed = await runOnce();
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("ReconcilePassError: 1 of 2 pool(s) not fully reconciled: a-refused: could not start pod a-refused-");
    expect(failed.error).toContain("runtime refused");
    expect([...runtime.pods.values()].map((p) => p.pool)).toEqual(["b-fine"]);

    runtime.refuse.clear();
    expect((await runOnce()).status).toBe("succeeded");
    expect([...runtime.pods.values()].map((p) => p.pool).sort()).toEqual(["a-refused", "b-fine"]);
  });
});
