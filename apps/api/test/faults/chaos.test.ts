// The chaos soak, short: see support/chaos.ts. `pnpm bench` runs the long version (≥ 10,000 tasks).
import { beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../../packages/core/test/support/services.js";
import { NO_SLOT_VIOLATIONS } from "./support/invariants.js";
import { runChaos, type ChaosFigures } from "./support/chaos.js";

describe.skipIf(!postgresAvailable || !redisAvailable)("chaos soak: two replicas, agents killed, scale-downs, one API kill -9 (seeded, 40 s)", () => {
  let f: ChaosFigures;

  beforeAll(async () => {
    f = await runChaos({ seconds: 40, clients: 12, seed: 20261129, redisUrl: REDIS_URL, log: (line) => console.log(line) });
    console.log(`chaos figures: ${JSON.stringify({ ...f, slotViolations: undefined })}`);
  }, 300_000);

  it("the storm happened: tasks flowed, agents were killed, pods scaled down and were lost, an API replica was killed", () => {
    // Throughput depends on the machine (two shared cores); the invariants below are what counts.
    expect(f.tasks).toBeGreaterThan(50);
    expect(f.agentKills + f.manualScales).toBeGreaterThanOrEqual(7);
    expect(f.agentKills).toBeGreaterThan(0);
    expect(f.manualScales).toBeGreaterThan(0);
    expect(f.podsLost).toBeGreaterThan(0);
    expect(f.apiKilled).not.toBe("");
  });

  it("no slot was given twice and the slot table is sound", () => {
    expect(f.slotsGivenTwice).toBe(0);
    expect(f.slotViolations).toEqual(NO_SLOT_VIOLATIONS);
  });

  it("no busy pod was deleted: not at the Kubernetes API, not by Berth's own count", () => {
    expect(f.busyPodDeletions).toBe(0);
    expect(f.busyPodDeletionsMetric).toBe(0);
  });

  it("every task ended, none run more often than its attempt limit", () => {
    expect(f.notTerminal).toBe(0);
    expect(f.overAttempted).toBe(0);
    expect(Object.keys(f.byStatus).sort()).toEqual(expect.arrayContaining(["succeeded"]));
  });

  it("no client saw a deadlock or any error other than the killed replica's refused connections", () => {
    expect(f.deadlockErrors).toBe(0);
    expect(f.unexpectedClientErrors).toEqual([]);
  });
});
