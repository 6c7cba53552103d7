// The chaos soak: two API replicas in cluster mode on PostgreSQL and Redis, a shared (fake)
// Kubernetes cluster whose pods run the real agent (@berth/agent), clients submitting tasks through both
// replicas, and a seeded storm: agents killed at random, manual scale-downs, autoscaling, and one
// API replica killed with SIGKILL (and started again). Used by the test suite (short) and by
// `pnpm bench` (long); both check the same invariants and print the same figures.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { deleteKeys } from "../../../../../packages/core/test/locks/redis-keys.js";
import { freshPostgres } from "../../../../../packages/core/test/support/databases.js";
import { Fleet, replicaEnv, type Replica } from "./fleet.js";
import { Client, type Endpoint } from "./graphql.js";
import { slotViolations, withDb, type SlotViolations } from "./invariants.js";
import { startSharedKube } from "./kube.js";
import { startPodAgents, waitForReadyPods } from "./workload.js";
import { seeded } from "./seeded.js";

export interface ChaosOptions {
  /** How long the storm lasts (clients submit, the seeded actions happen). */
  seconds: number;
  /** Concurrent clients submitting tasks. */
  clients: number;
  seed: number;
  redisUrl: string;
  /** Work of each task, uniformly in [0, maxWorkMs]. */
  maxWorkMs?: number;
  /** The pool's maxPods (default 6). */
  maxPods?: number;
  /** Clients keep submitting past `seconds` until this many tasks were answered, for at most `maxSeconds`. */
  minTasks?: number;
  maxSeconds?: number;
  /** Replaces `freshPostgres()` (the bench creates its own databases). */
  database?: () => Promise<{ url: string; drop: () => Promise<void> }>;
  log?: (line: string) => void;
}

export interface ChaosFigures {
  seconds: number;
  tasks: number;
  byStatus: Record<string, number>;
  tasksPerSecond: number;
  agentKills: number;
  manualScales: number;
  podsLost: number;
  apiKilled: string;
  /** Deletes that reached the (fake) Kubernetes API for a pod the database said was busy. */
  busyPodDeletions: number;
  /** berth_busy_pod_deletions_total as each live replica reports it at the end. */
  busyPodDeletionsMetric: number;
  /** Pairs of assignments of one slot that overlapped in time: a slot given twice. */
  slotsGivenTwice: number;
  /** Tasks run more times than the pool's maxAttempts. */
  overAttempted: number;
  /** Tasks still live after the drain. */
  notTerminal: number;
  deadlockErrors: number;
  /** Client calls that failed other than by a refused connection to the killed replica. */
  unexpectedClientErrors: string[];
  slotViolations: SlotViolations;
}


const POOL = "chaos";
const MAX_ATTEMPTS = 6;
const LIVE = ["pending", "running", "apply_pending", "applying"];

export async function runChaos(opts: ChaosOptions): Promise<ChaosFigures> {
  const log = opts.log ?? (() => {});
  const random = seeded(opts.seed);
  const token = `chaos-admin-${randomBytes(12).toString("hex")}`;
  const prefix = `berth-chaos-${randomBytes(4).toString("hex")}:`;
  const fleet = new Fleet();
  const client = new Client(token, 15_000);
  const dir = await mkdtemp(join(tmpdir(), "berth-chaos-"));
  const db = await (opts.database ?? freshPostgres)();
  const kube = await startSharedKube(dir);
  const replicas: Replica[] = [];
  const live = () => replicas.filter((r) => r.alive());
  const agents = await startPodAgents(kube, live, { heartbeatMs: 500 });
  let busyPodDeletions = 0;
  // The kubelet is told when a deletion begins: the pod must hold no work at that moment.
  const kubelet = kube.api.kubelet!;
  kube.api.kubelet = {
    started: (pod) => kubelet.started(pod),
    terminating: (pod, stopped) => {
      void withDb(db.url, async (c) => {
        const busy = await c.query(
          `SELECT (SELECT count(*) FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p.name = $1 AND s.state <> 'idle')
                + (SELECT count(*) FROM "Task" WHERE "podName" = $1 AND status IN ('running', 'applying', 'apply_pending')) AS n`,
          [pod.metadata.name],
        );
        if (Number(busy.rows[0].n) > 0) busyPodDeletions++;
      }).catch(() => {});
      kubelet.terminating(pod, stopped);
    },
  };

  const metricsToken = `chaos-metrics-${randomBytes(12).toString("hex")}`;
  const env = (name: string) =>
    replicaEnv(name, {
      dir,
      token,
      databaseUrl: db.url,
      kubeconfig: kube.kubeconfig,
      redis: { url: opts.redisUrl, prefix },
      extra: { AGENT_HEARTBEAT_SECONDS: "1", HEARTBEAT_TIMEOUT_SECONDS: "6", METRICS_TOKEN: metricsToken },
    });
  const figures: Partial<ChaosFigures> = { agentKills: 0, manualScales: 0, apiKilled: "" };
  try {
    replicas.push(...(await Promise.all([fleet.start("chaos-a", env("chaos-a")), fleet.start("chaos-b", env("chaos-b"))])));
    await client.call(replicas[0]!, "CreatePool", {
      input: {
        name: POOL,
        runtime: "kubernetes",
        image: "berth/agent:test",
        slotsPerPod: 3,
        minPods: 1,
        maxPods: opts.maxPods ?? 6,
        maxStep: 3,
        scaleUpCooldownSeconds: 2,
        scaleDownCooldownSeconds: 3,
        stabilizationWindowSeconds: 3,
        newPodGraceSeconds: 3,
        lostPodPolicy: "requeue",
        maxAttempts: MAX_ATTEMPTS,
      },
    }, "createPool");
    await waitForReadyPods(client, replicas, POOL, 1, 60_000);

    const startedAt = Date.now();
    const stormEnds = startedAt + opts.seconds * 1000;
    const hardEnd = startedAt + Math.max(opts.seconds, opts.maxSeconds ?? 0) * 1000;
    let submitted = 0;
    const submitting = () => Date.now() < hardEnd && (Date.now() < stormEnds || submitted < (opts.minTasks ?? 0));
    const submitters = Array.from({ length: opts.clients }, async (_, w) => {
      for (let n = 0; submitting(); n++) {
        const ref = `c${w}-${n}`;
        const input = { pool: POOL, type: "plan", payload: { ref, durationMs: Math.floor(random() * (opts.maxWorkMs ?? 30)) }, idempotencyKey: ref };
        const task = await client.callAny(live(), "SubmitTask", { input }, "submitTask", n + w, 15_000).catch(() => null);
        if (!task) continue;
        submitted++;
        for (let polls = 0; polls < 600 && Date.now() < hardEnd + 30_000; polls++) {
          const now = await client.callAny(live(), "Task", { id: task.id }, undefined, n).catch(() => null);
          if (now && !LIVE.includes(now.task.status)) break;
          await sleep(50);
        }
      }
    });

    // The storm: a fixed, seeded sequence of actions spread over the run, so that every run of a
    // seed does the same things whatever the machine's speed.
    const actions: ("kill-agent" | "scale" | "kill-api" | "restart-api")[] = [];
    for (let i = 0; i < Math.max(4, Math.round(opts.seconds / 5)); i++) actions.push(random() < 0.5 ? "kill-agent" : "scale");
    const middle = actions.length >> 1;
    actions.splice(middle, 0, "kill-api", "restart-api");
    const storm = (async () => {
      for (const [i, action] of actions.entries()) {
        await sleep(Math.max(0, startedAt + ((i + 1) * opts.seconds * 1000) / (actions.length + 1) - Date.now()));
        if (action === "kill-api") {
          const victim = replicas[Math.floor(random() * 2)]!;
          await victim.kill9();
          figures.apiKilled = victim.name;
          log(`chaos: killed ${victim.name} with SIGKILL`);
        } else if (action === "restart-api") {
          const dead = replicas.findIndex((r) => !r.alive());
          if (dead >= 0) replicas[dead] = await fleet.start(replicas[dead]!.name, env(replicas[dead]!.name));
          log("chaos: started the killed replica again");
        } else if (action === "kill-agent") {
          const pods = kube.api.podsIn("default").filter((p) => p.status.phase === "Running" && !p.metadata.deletionTimestamp && !agents.kubelet.killed.has(p.metadata.name));
          const pod = pods[Math.floor(random() * pods.length)];
          if (pod && agents.kubelet.kill("default", pod.metadata.name)) figures.agentKills!++;
        } else {
          await client.callAny(live(), "ScalePool", { name: POOL, pods: 1 + Math.floor(random() * 3) }, "scalePool").then(
            () => figures.manualScales!++,
            () => {},
          );
        }
      }
    })();
    await Promise.all([...submitters, storm]);
    const stormSeconds = (Date.now() - startedAt) / 1000;

    // Everything still live must end: agents finish it, or it is requeued and finished elsewhere.
    const drainBy = Date.now() + 90_000;
    let notTerminal = -1;
    while (Date.now() < drainBy) {
      notTerminal = await withDb(db.url, async (c) => Number((await c.query(`SELECT count(*) AS n FROM "Task" WHERE status IN ('pending', 'running', 'apply_pending', 'applying')`)).rows[0].n));
      if (notTerminal === 0) break;
      await sleep(500);
    }

    const metricTotal = await Promise.all(
      live().map(async (r) => {
        const response = await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
        if (!response.ok) throw new Error(`${r.name} /metrics answered ${response.status}`);
        const text = await response.text();
        if (!text.includes("berth_")) throw new Error(`${r.name} /metrics has no Berth metrics`);
        return [...text.matchAll(/^berth_busy_pod_deletions_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      }),
    );

    await withDb(db.url, async (c) => {
      const tasks = await c.query<{ status: string; n: string }>(`SELECT status::text AS status, count(*) AS n FROM "Task" GROUP BY 1`);
      figures.byStatus = Object.fromEntries(tasks.rows.map((r) => [r.status, Number(r.n)]));
      figures.tasks = tasks.rows.reduce((n, r) => n + Number(r.n), 0);
      figures.overAttempted = Number((await c.query(`SELECT count(*) AS n FROM "Task" WHERE attempts > $1`, [MAX_ATTEMPTS])).rows[0].n);
      figures.podsLost = Number((await c.query(`SELECT count(*) AS n FROM "ScalingEvent" WHERE kind = 'pod_lost'`)).rows[0].n);
      // Two assignments of one slot overlap when the later one was taken before the earlier was released.
      figures.slotsGivenTwice = Number(
        (
          await c.query(`SELECT count(*) AS n FROM "SlotAssignment" a JOIN "SlotAssignment" b ON a."slotId" = b."slotId" AND a.id <> b.id
            AND a."assignedSeq" < b."assignedSeq" AND (a."releasedSeq" IS NULL OR a."releasedSeq" > b."assignedSeq")`)
        ).rows[0].n,
      );
      figures.slotViolations = await slotViolations(c);
    });
    figures.seconds = Math.round(stormSeconds);
    figures.tasksPerSecond = Math.round(((figures.tasks ?? 0) / stormSeconds) * 10) / 10;
    figures.busyPodDeletions = busyPodDeletions;
    figures.busyPodDeletionsMetric = metricTotal.reduce((a, b) => a + b, 0);
    figures.notTerminal = notTerminal;
    const failures = client.log.filter((c) => !c.ok);
    figures.deadlockErrors = failures.filter((c) => /deadlock/i.test(c.error ?? "")).length;
    figures.unexpectedClientErrors = failures
      .filter((c) => !/\(refused\)|\(network\)/.test(c.error ?? "") && !/no API replica is up/.test(c.error ?? ""))
      .map((c) => `${c.endpoint} ${c.operation}: ${c.error}`)
      .slice(0, 20);
    log(`chaos: ${submitted} submits answered`);
    return figures as ChaosFigures;
  } finally {
    await agents.stop().catch(() => {});
    await fleet.killAll();
    await kube.stop();
    const cleaner = new Redis(opts.redisUrl);
    await deleteKeys(cleaner, prefix).catch(() => {});
    cleaner.disconnect();
    await db.drop().catch(() => {});
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

export type { Endpoint };
