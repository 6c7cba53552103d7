// Two API replicas started exactly as the README's "several replicas" section shows them
// (PostgreSQL, Redis, cluster mode, local storage and local pods running the demo agent), with
// tasks flowing through both for a minute while the pool scales up and down, and the same cron
// job triggered on both replicas at once, again and again. No pod whose agent heartbeats may be
// declared Lost; every trigger must answer with the run.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeys } from "../../../../packages/core/test/locks/redis-keys.js";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../../packages/core/test/support/services.js";
import { Fleet, readmeReplicaEnv, type Replica } from "./support/fleet.js";
import { Client } from "./support/graphql.js";
import { NO_SLOT_VIOLATIONS, slotViolations, withDb } from "./support/invariants.js";
import { killLocalPods } from "./support/local-pods.js";
import { waitForReadyPods } from "./support/workload.js";

const POOL = "twins";
const SECONDS = Number(process.env.BERTH_TWO_REPLICA_SECONDS ?? 60);
const LIVE = ["pending", "running", "apply_pending", "applying"];

describe.skipIf(!postgresAvailable || !redisAvailable)(`two replicas as the README starts them, tasks flowing for ${SECONDS} s`, () => {
  const token = `twins-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-twins-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  const client = new Client(token);
  let dir = "";
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let replicas: Replica[] = [];
  const triggers: { replica: string; ok: boolean; detail: string }[] = [];
  let lost: { reason: string }[] = [];
  let byStatus: Record<string, number> = {};
  let scaling: string[] = [];
  let violations: unknown;
  let submitted = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-twins-"));
    db = await freshPostgres();
    const env = (name: string) => readmeReplicaEnv(name, { dir, token, databaseUrl: db!.url, redisUrl: REDIS_URL, prefix });
    replicas = await Promise.all([fleet.start("api-1", env("api-1")), fleet.start("api-2", env("api-2"))]);
    await client.call(replicas[0]!, "CreatePool", {
      input: { name: POOL, minPods: 1, maxPods: 3, slotsPerPod: 3, scaleUpCooldownSeconds: 2, scaleDownCooldownSeconds: 5, stabilizationWindowSeconds: 5, newPodGraceSeconds: 5 },
    }, "createPool");
    await waitForReadyPods(client, replicas, POOL, 1, 90_000);

    const endsAt = Date.now() + SECONDS * 1000;
    // Waves of work, so that the pool scales up and back down.
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; Date.now() < endsAt; n++) {
        const busy = Math.floor((Date.now() / 10_000) % 2) === 0;
        if (!busy && w >= 2) {
          await sleep(500);
          continue;
        }
        const input = { pool: POOL, type: "plan", payload: { durationMs: 300 + ((w * 97 + n * 31) % 700) }, idempotencyKey: `w${w}-${n}` };
        const task = await client.callAny(replicas, "SubmitTask", { input }, "submitTask", n + w).catch(() => null);
        if (!task) continue;
        submitted++;
        for (let polls = 0; polls < 400; polls++) {
          const now = await client.callAny(replicas, "Task", { id: task.id }, undefined, n).catch(() => null);
          if (now && !LIVE.includes(now.task.status)) break;
          await sleep(100);
        }
      }
    });
    const triggering = (async () => {
      while (Date.now() < endsAt) {
        await sleep(3000);
        const answers = await Promise.all(
          replicas.map((r) =>
            client.call(r, "TriggerCronJob", { name: "expire-reservations" }, "triggerCronJob").then(
              (run: { id: string; status: string }) => ({ replica: r.name, ok: true, detail: run.status }),
              (error: Error) => ({ replica: r.name, ok: false, detail: error.message }),
            ),
          ),
        );
        triggers.push(...answers);
      }
    })();
    await Promise.all([...workers, triggering]);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
      const { tasks } = await client.callAny(replicas, "Tasks", { pool: POOL, status: LIVE, first: 10 });
      if (tasks.length === 0) break;
    }
    const { pool } = await client.callAny(replicas, "Pool", { name: POOL });
    const events = pool.scalingEvents as { kind: string; reason: string }[];
    lost = events.filter((e) => e.kind === "pod_lost");
    scaling = events.map((e) => e.kind);
    await withDb(db.url, async (c) => {
      byStatus = Object.fromEntries((await c.query(`SELECT status::text AS s, count(*)::int AS n FROM "Task" GROUP BY 1`)).rows.map((r) => [r.s, r.n]));
      violations = await slotViolations(c);
    });
    console.log(`two replicas: ${submitted} tasks ${JSON.stringify(byStatus)}; scaling ${JSON.stringify(scaling)}; ${triggers.length} triggers`);
  }, SECONDS * 1000 + 240_000);

  afterAll(async () => {
    if (replicas.length > 0) await client.callAny(replicas, "DeletePool", { name: POOL }, "deletePool").catch(() => {});
    await fleet.killAll();
    if (dir) killLocalPods(join(dir, "data"));
    const cleaner = new Redis(REDIS_URL);
    await deleteKeys(cleaner, prefix).catch(() => {});
    cleaner.disconnect();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("tasks flowed through both replicas, and the pool scaled up and down", () => {
    expect(submitted).toBeGreaterThan(50);
    expect(byStatus).toEqual({ succeeded: submitted });
    expect(scaling).toContain("scale_up");
    expect(violations).toEqual(NO_SLOT_VIOLATIONS);
  });

  it("no pod was declared Lost: every pod's agent kept heartbeating, whichever replica started it", () => {
    expect(lost).toEqual([]);
  });

  it("simultaneous triggers of one cron job on both replicas always answered with the run", () => {
    expect(triggers.length).toBeGreaterThanOrEqual(2 * Math.floor(SECONDS / 4));
    expect(triggers.filter((t) => !t.ok)).toEqual([]);
  });
});
