// Utilisation over time: the reconcile pass samples each pool at most once per interval (whichever
// controller holds the pool's guard), housekeeping prunes samples past the retention, and
// `Pool.utilisation` returns a bounded series for the last hour or day with the scaling events of it.
import { PoolController, type UtilisationPoint } from "@berth/core/pools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { postgresAvailable } from "../../../packages/core/test/support/services.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const UTILISATION = `query($name: String!, $range: UtilisationRange) {
  pool(name: $name) {
    utilisation(range: $range) {
      range from to stepSeconds
      points { at busySlots reservedSlots idleSlots startingSlots pendingTasks podCount pendingNoSlot pendingKeyBlocked pendingReservedCap }
      events { kind at }
    }
  }
}`;

describe.skipIf(!postgresAvailable)("pool utilisation over time (PostgreSQL)", () => {
  let api: TestApi;
  let runtime: FakeRuntime;

  beforeAll(async () => {
    runtime = new FakeRuntime();
    api = await createTestApi({ backend: "postgres", runtime, env: { UTILISATION_SAMPLE_SECONDS: "60", UTILISATION_RETENTION_SECONDS: String(7 * 86_400) } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const poolRow = (name: string) => api.services.prisma.pool.findUniqueOrThrow({ where: { name } });
  const samples = async (name: string) => api.services.prisma.poolSample.findMany({ where: { poolId: (await poolRow(name)).id }, orderBy: { at: "asc" } });
  const utilisation = async (name: string, range: "HOUR" | "DAY", token?: string) => {
    const result = await api.gql(UTILISATION, { name, range }, token);
    expect(result.errors).toBeUndefined();
    return result.data.pool.utilisation as { range: string; stepSeconds: number; points: (Omit<UtilisationPoint, "at"> & { at: string })[]; events: { kind: string; at: string }[] };
  };
  const insertSamples = async (name: string, ats: Date[], values: Partial<Omit<UtilisationPoint, "at">> = {}) => {
    const poolId = (await poolRow(name)).id;
    await api.services.prisma.poolSample.createMany({
      data: ats.map((at) => ({ poolId, at, busySlots: 0, reservedSlots: 0, idleSlots: 0, startingSlots: 0, pendingTasks: 0, podCount: 0, ...values })),
    });
  };

  it("a pass samples the pool's slots, queue and pods, at most once per interval whichever controller holds the guard", async () => {
    await api.services.pools.createPool({ name: "sampled", minPods: 1, maxPods: 2 });
    await api.services.pools.reconcilePool(await poolRow("sampled"));
    // A second controller (another replica) within the interval writes nothing more.
    const other = new PoolController(api.services.core, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30, sampleIntervalSeconds: 60 });
    await other.reconcilePool(await poolRow("sampled"));
    await api.services.pools.reconcilePool(await poolRow("sampled"));
    await other.close();

    const rows = await samples("sampled");
    expect(rows).toHaveLength(1);
    // minPods 1: the first pass started a pod, whose three slots are starting, not idle.
    expect(rows[0]).toMatchObject({ podCount: 1, startingSlots: 3, idleSlots: 0, busySlots: 0, reservedSlots: 0, pendingTasks: 0 });

    const hour = await utilisation("sampled", "HOUR");
    expect(hour.stepSeconds).toBe(60);
    expect(hour.points).toHaveLength(1);
    expect(hour.points[0]).toMatchObject({ podCount: 1, startingSlots: 3 });
    expect(hour.events.map((e) => e.kind)).toContain("ensure_min");
  });

  it("a sample keeps the pending queue by reason: waiting for a slot, blocked by a concurrency key", async () => {
    await api.services.pools.createPool({ name: "queued", minPods: 0, maxPods: 1 });
    for (const key of ["ws-1", "ws-1", null]) {
      const res = await api.gql('mutation($i: SubmitTaskInput!) { submitTask(input: $i) { __typename } }', { i: { pool: "queued", type: "plan", concurrencyKey: key } });
      expect(res.errors).toBeUndefined();
      expect(res.data.submitTask.__typename).toBe("MutationSubmitTaskSuccess");
    }
    await api.services.pools.reconcilePool(await poolRow("queued"));

    const rows = await samples("queued");
    expect(rows).toHaveLength(1);
    // No pod is Ready yet: two tasks wait for a slot, the second task of ws-1 waits for the first.
    expect(rows[0]).toMatchObject({ pendingTasks: 2, pendingNoSlot: 2, pendingKeyBlocked: 1, pendingReservedCap: 0 });
    const hour = await utilisation("queued", "HOUR");
    expect(hour.points[0]).toMatchObject({ pendingNoSlot: 2, pendingKeyBlocked: 1, pendingReservedCap: 0 });
  });

  it("housekeeping prunes samples past the retention and keeps the rest", async () => {
    await api.services.pools.createPool({ name: "retained", minPods: 0, maxPods: 1 });
    const now = Date.now();
    await insertSamples("retained", [new Date(now - 8 * 86_400_000), new Date(now - 7 * 86_400_000 - 60_000), new Date(now - 6 * 86_400_000), new Date(now - 60_000)]);
    await api.services.pools.scanForOrphans();
    const left = (await samples("retained")).map((s) => now - s.at.getTime());
    expect(left).toHaveLength(2);
    expect(Math.max(...left)).toBeLessThan(7 * 86_400_000);
  });

  it("an hour returns at most 720 points, the newest, oldest first, and only that hour's events", async () => {
    await api.services.pools.createPool({ name: "busy-hour", minPods: 0, maxPods: 1 });
    const now = Date.now();
    // 800 samples 4 s apart (the last 53 minutes), and one from two hours ago.
    await insertSamples("busy-hour", [...Array.from({ length: 800 }, (_, i) => new Date(now - 5_000 - i * 4_000)), new Date(now - 2 * 3_600_000)], { busySlots: 2, podCount: 1 });
    const pool = await poolRow("busy-hour");
    await api.services.prisma.scalingEvent.createMany({
      data: [
        { poolId: pool.id, kind: "scale_up", fromPods: 0, toPods: 1, utilization: 1, reason: "recent", at: new Date(now - 10 * 60_000) },
        { poolId: pool.id, kind: "scale_down", fromPods: 1, toPods: 0, utilization: 0, reason: "old", at: new Date(now - 2 * 3_600_000) },
      ],
    });

    const hour = await utilisation("busy-hour", "HOUR");
    expect(hour.points).toHaveLength(720);
    const times = hour.points.map((p) => Date.parse(p.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)).toBeGreaterThan(now - 6_000);
    expect(times[0]).toBeGreaterThan(now - 3_600_000);
    expect(hour.events.map((e) => e.kind)).toEqual(["scale_up"]);

    const day = await utilisation("busy-hour", "DAY");
    expect(day.events.map((e) => e.kind)).toEqual(["scale_down", "scale_up"]);
  });

  it("a day is averaged into 5-minute buckets: at most 288 (+1 partial) points, none older than a day", async () => {
    await api.services.pools.createPool({ name: "busy-day", minPods: 0, maxPods: 4 });
    const now = Date.now();
    // One sample a minute for two days; busy slots alternate 0 and 4 within each bucket.
    await insertSamples("busy-day", Array.from({ length: 2 * 1440 }, (_, i) => new Date(now - 30_000 - i * 60_000)));
    const poolId = (await poolRow("busy-day")).id;
    await api.services.prisma.$executeRaw`UPDATE "PoolSample" SET "busySlots" = 4, "podCount" = 2 WHERE "poolId" = ${poolId}::uuid AND (extract(epoch FROM "at")::bigint / 60) % 2 = 0`;

    const day = await utilisation("busy-day", "DAY");
    expect(day.stepSeconds).toBe(300);
    expect(day.points.length).toBeGreaterThanOrEqual(287);
    expect(day.points.length).toBeLessThanOrEqual(289);
    expect(Date.parse(day.points[0]!.at)).toBeGreaterThan(now - 86_400_000 - 300_000);
    // A full bucket holds five samples, two or three of them busy: between 1.6 and 2.4 on average.
    const full = day.points.slice(1, -1);
    for (const p of full) {
      expect(p.busySlots).toBeGreaterThanOrEqual(1.6);
      expect(p.busySlots).toBeLessThanOrEqual(2.4);
    }
  });

  it("a viewer reads utilisation; an agent token cannot", async () => {
    const viewer = await api.tokenFor("viewer");
    expect((await utilisation("sampled", "HOUR", viewer)).points.length).toBeGreaterThan(0);
    const agent = await api.tokenFor("agent", { pool: "sampled" });
    const denied = await api.gql(UTILISATION, { name: "sampled", range: "HOUR" }, agent);
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
