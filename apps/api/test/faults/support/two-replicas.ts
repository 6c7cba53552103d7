// Two API replicas started exactly as the README's "several replicas" section shows them
// (PostgreSQL, Redis, cluster mode, local storage and local pods running @berth/agent), tasks
// flowing through both in waves while the pool scales, and the same cron job triggered on both
// replicas at once, again and again. Used by the test suite (a minute) and `pnpm bench` (five).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { deleteKeys } from "../../../../../packages/core/test/locks/redis-keys.js";
import { freshPostgres } from "../../../../../packages/core/test/support/databases.js";
import { Fleet, readmeReplicaEnv, type Replica } from "./fleet.js";
import { Client } from "./graphql.js";
import { slotViolations, withDb, type SlotViolations } from "./invariants.js";
import { killLocalPods } from "./local-pods.js";
import { waitForReadyPods } from "./workload.js";

const POOL = "twins";
const LIVE = ["pending", "running", "apply_pending", "applying"];

export interface TwoReplicaFigures {
  seconds: number;
  submitted: number;
  byStatus: Record<string, number>;
  scaling: string[];
  /** pod_lost events: every pod's agent heartbeats, so there must be none. */
  lost: { reason: string }[];
  triggers: { replica: string; ok: boolean; detail: string }[];
  violations: SlotViolations;
}

export async function runTwoReplicas(opts: { seconds: number; redisUrl: string; database?: () => Promise<{ url: string; drop: () => Promise<void> }> }): Promise<TwoReplicaFigures> {
  const token = `twins-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-twins-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  const client = new Client(token);
  const dir = await mkdtemp(join(tmpdir(), "berth-twins-"));
  const db = await (opts.database ?? freshPostgres)();
  let replicas: Replica[] = [];
  const triggers: TwoReplicaFigures["triggers"] = [];
  let submitted = 0;
  try {
    const env = (name: string) => readmeReplicaEnv(name, { dir, token, databaseUrl: db.url, redisUrl: opts.redisUrl, prefix });
    replicas = await Promise.all([fleet.start("api-1", env("api-1")), fleet.start("api-2", env("api-2"))]);
    await client.call(replicas[0]!, "CreatePool", {
      input: { name: POOL, minPods: 1, maxPods: 3, slotsPerPod: 3, scaleUpCooldownSeconds: 2, scaleDownCooldownSeconds: 5, stabilizationWindowSeconds: 5, newPodGraceSeconds: 5 },
    }, "createPool");
    await waitForReadyPods(client, replicas, POOL, 1, 90_000);

    const startedAt = Date.now();
    const endsAt = startedAt + opts.seconds * 1000;
    // Waves of work (ten seconds busy, ten quiet), so that the pool scales up and back down.
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; Date.now() < endsAt; n++) {
        const busy = Math.floor((Date.now() / 10_000) % 2) === 0;
        if (!busy && w >= 1) {
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
    return await withDb(db.url, async (c) => ({
      seconds: Math.round((Date.now() - startedAt) / 1000),
      submitted,
      byStatus: Object.fromEntries((await c.query(`SELECT status::text AS s, count(*)::int AS n FROM "Task" GROUP BY 1`)).rows.map((r) => [r.s, r.n])),
      scaling: events.map((e) => e.kind),
      lost: events.filter((e) => e.kind === "pod_lost"),
      triggers,
      violations: await slotViolations(c),
    }));
  } finally {
    if (replicas.length > 0) await client.callAny(replicas, "DeletePool", { name: POOL }, "deletePool").catch(() => {});
    await fleet.killAll();
    killLocalPods(join(dir, "data"));
    const cleaner = new Redis(opts.redisUrl);
    await deleteKeys(cleaner, prefix).catch(() => {});
    cleaner.disconnect();
    await db.drop().catch(() => {});
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
