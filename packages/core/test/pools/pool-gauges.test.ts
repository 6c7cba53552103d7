import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { registry } from "../../src/metrics/index.js";
import { PoolController } from "../../src/pools/index.js";
import { backends } from "../support/databases.js";
import { FakeRuntime, openCore, type CoreHarness } from "../support/core.js";

const seriesOf = async (pool: string) => (await registry.metrics()).split("\n").filter((line) => line.includes(`pool="${pool}"`) && /^berth_(pods|slots|pool_utilization)\{/.test(line));

describe.each(backends)("pool gauges on %s", (backend) => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await openCore(backend);
  });
  beforeEach(() => h.reset());
  afterAll(() => h.close());

  it("a deleted pool's gauges leave /metrics, on the replica that deleted it and, at its next pass, on any other", async () => {
    const runtime = new FakeRuntime();
    const one = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
    const other = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30 });
    await one.createPool({ name: "gauged", minPods: 1, maxPods: 2 });
    await one.createPool({ name: "kept", minPods: 0, maxPods: 1 });
    await one.reconcileAll();
    expect(await seriesOf("gauged")).not.toEqual([]);
    await one.deletePool("gauged");
    expect(await seriesOf("gauged")).toEqual([]);
    expect(await seriesOf("kept")).not.toEqual([]);

    // Gauges set again (as another replica's pass would have), then the pool deleted elsewhere:
    await other.createPool({ name: "elsewhere", minPods: 0, maxPods: 1 });
    await other.reconcileAll();
    expect(await seriesOf("elsewhere")).not.toEqual([]);
    await h.ctx.prisma.pool.delete({ where: { name: "elsewhere" } });
    await other.reconcileAll();
    expect(await seriesOf("elsewhere")).toEqual([]);
    expect(await seriesOf("kept")).not.toEqual([]);
  });
});
