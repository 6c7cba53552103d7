// Two replicas as the README starts them, tasks flowing for a minute: see support/two-replicas.ts.
// `pnpm bench` runs the same for five minutes.
import { beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../../packages/core/test/support/services.js";
import { NO_SLOT_VIOLATIONS } from "./support/invariants.js";
import { runTwoReplicas, type TwoReplicaFigures } from "./support/two-replicas.js";

const SECONDS = 60;

describe.skipIf(!postgresAvailable || !redisAvailable)(`two replicas as the README starts them, tasks flowing for ${SECONDS} s`, () => {
  let f: TwoReplicaFigures;

  beforeAll(async () => {
    f = await runTwoReplicas({ seconds: SECONDS, redisUrl: REDIS_URL });
    console.log(`two replicas: ${f.submitted} tasks ${JSON.stringify(f.byStatus)}; scaling ${JSON.stringify(f.scaling)}; ${f.triggers.length} triggers`);
  }, SECONDS * 1000 + 240_000);

  it("tasks flowed through both replicas, and the pool scaled up", () => {
    expect(f.submitted).toBeGreaterThan(50);
    expect(f.byStatus).toEqual({ succeeded: f.submitted });
    expect(f.scaling).toContain("scale_up");
    expect(f.violations).toEqual(NO_SLOT_VIOLATIONS);
  });

  it("no pod was declared Lost: every pod's agent kept heartbeating, whichever replica started it", () => {
    expect(f.lost).toEqual([]);
  });

  it("simultaneous triggers of one cron job on both replicas always answered with the run", () => {
    expect(f.triggers.length).toBeGreaterThanOrEqual(2 * Math.floor(SECONDS / 4));
    expect(f.triggers.filter((t) => !t.ok)).toEqual([]);
  });
});
