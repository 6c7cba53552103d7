import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pruneAudit } from "@berth/core/audit";
import { fileURLToPath } from "node:url";
import type { BerthConfig } from "@berth/core/cluster";
import type { CoreContext } from "@berth/core/context";
import type { PrismaClient } from "@berth/core/db";
import { builtinCronJobs, createCronScheduler, type CronScheduler } from "@berth/core/cron";
import type { EventBus } from "@berth/core/events";
import { createMemoryLockService, createRedisLockService, type LockService } from "@berth/core/locks";
import { PoolController, checkReconcilePass } from "@berth/core/pools";
import { createTaskLogs, taskLogsJob, type TaskLogs } from "@berth/core/logs";
import { createRuntime, guardBusyPodDeletion, type PodRuntime } from "@berth/core/runtime";
import { pruneScheduleRuns, scheduleDispatchJob } from "@berth/core/schedules";
import { createStorage, type StorageService } from "@berth/core/storage";
import { expireReservations } from "@berth/core/tasks";
import { mintAgentToken, secretAgentTokenIssuer, verifyApiToken } from "@berth/core/tokens";
import type { Redis } from "ioredis";

/** Berth's domain, as the API serves it: everything past the database, Redis and the event bus. */
export interface DomainServices {
  core: CoreContext;
  pools: PoolController;
  runtime: PodRuntime;
  locks: LockService;
  cron: CronScheduler;
  storage: StorageService;
  logs: TaskLogs;
}

export interface DomainOptions {
  /** Replaces the configured pod runtime (tests). */
  runtime?: PodRuntime;
  /** Start the cron scheduler (reconcile pass, reservation expiry, history pruning). */
  background?: boolean;
}

/** Stops the background work (the cron scheduler) first at shutdown, before requests drain. */
export interface Background {
  stopBackground(): Promise<void>;
}

/**
 * Agents in local pods (and in Kubernetes pods without a Secret) need a token limited to their
 * pool. Only hashes are stored, so a minted token is known to this process only. Local pods
 * outlive the process: their pool's token is kept in the pod directory (a file only this user
 * can read) and taken again after a restart while it is valid, so the pods that run on keep
 * working; a new one replaces the previous token of the same name.
 */
export function agentTokenName(local: boolean, pool: string, replicaId: string): string {
  const name = `${local ? "local agents" : "agents"} of ${pool} on ${replicaId}`;
  // Token names hold 100 characters; a long replica id is replaced by a digest of it, still one per replica.
  return name.length <= 100 ? name : `${local ? "local agents" : "agents"} of ${pool} on #${createHash("sha256").update(replicaId).digest("hex").slice(0, 16)}`;
}

function agentTokens(prisma: PrismaClient, config: BerthConfig, podDir: string) {
  const local = config.runtime.type === "local";
  const minted = new Map<string, Promise<string>>();
  const kept = async (pool: string): Promise<string | null> => {
    if (!local) return null;
    const token = await readFile(join(podDir, "tokens", `${pool}.token`), "utf8").catch(() => null);
    if (!token) return null;
    const verified = await verifyApiToken(prisma, token.trim());
    const poolRow = await prisma.pool.findUnique({ where: { name: pool }, select: { id: true } });
    return verified?.role === "agent" && poolRow && verified.poolId === poolRow.id ? token.trim() : null;
  };
  return (pool: string) => {
    let token = minted.get(pool);
    if (!token) {
      const name = agentTokenName(local, pool, config.cluster.replicaId);
      token = kept(pool).then(async (still) => still ?? (await mintAgentToken(prisma, { pool, name, replacePrevious: local })).token);
      token.catch(() => minted.delete(pool));
      minted.set(pool, token);
    }
    return token;
  };
}

/** New work goes to pods heard from within three heartbeats, never more than the Lost timeout. */
export function podFreshSeconds(config: Pick<BerthConfig, "agentHeartbeatSeconds" | "heartbeatTimeoutSeconds">): number {
  return Math.min(3 * config.agentHeartbeatSeconds, config.heartbeatTimeoutSeconds);
}

export async function openDomain(
  base: { config: BerthConfig; prisma: PrismaClient; events: EventBus; redis: Redis | null; onClose(release: () => unknown): void },
  options: DomainOptions = {},
): Promise<DomainServices & Background> {
  const { config, prisma, events, redis } = base;
  const core: CoreContext = { prisma, events, now: () => new Date(), podFreshSeconds: podFreshSeconds(config) };

  const podDir = join(config.dataDir, "pods");
  const runtime = guardBusyPodDeletion(
    options.runtime ??
      createRuntime(config.runtime, {
        apiUrl: config.api.url,
        agentToken: agentTokens(prisma, config, podDir),
        agentTokens: secretAgentTokenIssuer(prisma),
        podDir,
        heartbeatMs: config.agentHeartbeatSeconds * 1000,
        namespaces: config.runtime.namespaces,
      }),
    core,
  );
  base.onClose(() => runtime.close());

  const locks = redis
    ? createRedisLockService(redis, { replicaId: config.cluster.replicaId, prefix: config.redisPrefix })
    : createMemoryLockService({ replicaId: config.cluster.replicaId });

  // Closing runs in reverse: the scheduler stops first, then held locks are released.
  base.onClose(() => locks.close());

  const pools = new PoolController(core, {
    runtimes: { [runtime.kind]: runtime },
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    locks,
    watch: true,
    // Replicas that run the background work also answer work that found no free slot at once.
    demand: Boolean(options.background),
    sampleIntervalSeconds: config.utilisation.sampleSeconds,
    sampleRetentionSeconds: config.utilisation.retentionSeconds,
    admission: {
      defaultNamespace: config.runtime.namespace,
      namespaces: config.runtime.namespaces,
      podPolicy: { serviceAccounts: config.runtime.podServiceAccounts },
    },
  });

  base.onClose(() => pools.close());

  const storage = createStorage(config.storage, { publicBaseUrl: config.api.url });
  const logs = createTaskLogs(core, storage, { maxBytes: config.taskLogMaxBytes });

  const cron = createCronScheduler({
    prisma,
    locks,
    events,
    cluster: config.cluster,
    historyKeep: config.cronHistoryKeep,
    onError: (error) => process.stderr.write(`berth: cron tick failed: ${(error as Error)?.message ?? error}\n`),
  });
  for (const job of builtinCronJobs({
    reconcileSchedule: config.reconcileSchedule,
    // A pass with errors in any pool is recorded as a failed run, with the reasons.
    reconcile: async (job) => ({ pools: checkReconcilePass(await pools.reconcileAll(job.signal)).length }),
    expireReservations: async () => ({ expired: (await expireReservations(core)).length }),
    pruneHistory: async () => ({
      pruned: await cron.pruneHistory(),
      scheduleRunsPruned: await pruneScheduleRuns(core, config.scheduleHistoryKeep),
      auditEntriesPruned: await pruneAudit(core, config.auditRetentionDays),
    }),
  })) {
    await cron.register(job);
  }
  await cron.register(scheduleDispatchJob(core));
  await cron.register(taskLogsJob(logs, config.reconcileSchedule));
  let stopped: Promise<void> | undefined;
  const stopBackground = () => (stopped ??= cron.stop());
  if (options.background) {
    await cron.start();
    base.onClose(stopBackground);
  }
  return { core, pools, runtime, locks, cron, storage, logs, stopBackground };
}

/** Where the demo pool's scripts are: packages/agent/demo, from apps/api/src or apps/api/dist alike. */
const DEMO_SCRIPTS = fileURLToPath(new URL("../../../packages/agent/demo/", import.meta.url));

/**
 * The demo pool's task types: a plan that prints progress and writes plan.json in its working
 * directory, an apply that reads it there, and both as one plan-and-apply type. The scripts honour
 * the built-in types' payload (`durationMs`, `fail`), so clients of the built-in types keep working.
 */
export function demoTaskTypes() {
  const plan = ["node", join(DEMO_SCRIPTS, "plan.mjs")];
  const apply = ["node", join(DEMO_SCRIPTS, "apply.mjs")];
  return [
    { name: "plan", command: plan },
    { name: "apply", command: apply },
    { name: "plan_and_apply", command: plan, applyCommand: apply },
  ];
}

/**
 * On the first start of an embedded Berth, a `demo` pool gives a person something to watch:
 * one pod at once, up to four under load. A marker in the data directory keeps it from
 * coming back after someone deletes it.
 */
export async function ensureDemoPool(config: BerthConfig, pools: PoolController): Promise<boolean> {
  if (!config.demoPool) return false;
  const marker = join(config.dataDir, "demo-pool-created");
  if (existsSync(marker)) return false;
  // Berth itself declares the demo's commands (scripts shipped with it), as an admin would.
  const spec = { name: "demo", minPods: 1, maxPods: 4, newPodGraceSeconds: 30, scaleDownCooldownSeconds: 60, taskTypes: demoTaskTypes() };
  const existing = await pools.createPool(spec, { role: "admin" }).catch((error: Error) => {
    if (/already exists/.test(error.message)) return null;
    throw error;
  });
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(marker, new Date().toISOString() + "\n");
  return existing !== null;
}
