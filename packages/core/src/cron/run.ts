import type { CronRun, PrismaClient } from "../db/index.js";
import type { EventBus } from "../events/index.js";
import type { Lock, LockService } from "../locks/index.js";
import type { CronJobDefinition, CronTrigger } from "./define.js";
import { cronDuration, cronExecutions, cronLockFailures } from "./metrics.js";

export interface RunDeps {
  prisma: PrismaClient;
  locks: LockService;
  events: EventBus;
  clock: () => Date;
  replicaId: string;
  clustered: boolean;
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}

/**
 * One fire time on this replica. In cluster mode the job's lock (extended while the job runs)
 * keeps other replicas out; the CronRun row, unique per (job, fire time), is the final guard:
 * whoever inserts it runs it. `started` is told the row once it exists, or null when this
 * replica does not run the fire time.
 */
export async function executeRun(
  deps: RunDeps,
  job: CronJobDefinition,
  scheduledAt: Date,
  trigger: CronTrigger,
  started: (run: CronRun | null) => void,
  claim?: () => Promise<boolean>,
): Promise<void> {
  const labels = { task: job.name, replica: deps.replicaId };
  let lock: Lock | null = null;
  if (deps.clustered) {
    // overlap=wait also waits for a run on another replica to end (the lock is held for the whole run).
    lock = await deps.locks.acquire(`cron:${job.name}`, job.lockTtlMs, { autoExtend: true, waitMs: job.overlap === "wait" ? job.lockTtlMs : 0 });
    if (!lock) {
      cronLockFailures.inc(labels);
      return started(null);
    }
  }
  try {
    if (claim && !(await claim())) return started(null);
    let run: CronRun;
    try {
      run = await deps.prisma.cronRun.create({
        data: {
          job: job.name,
          replica: deps.replicaId,
          scheduledAt,
          trigger,
          startedAt: deps.clock(),
          status: "running",
          fencingToken: lock ? String(lock.fencingToken) : null,
        },
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another replica got the lock after this fire time's winner released it, and found the row.
      cronLockFailures.inc(labels);
      return started(null);
    }
    started(run);
    if (lock) await closeOrphanedRuns(deps, job.name, run);
    await deps.events.publish("cronRun", { id: run.id, job: job.name, status: "running", durationMs: null }).catch(() => {});

    let failure: unknown = null;
    try {
      lock?.signal.throwIfAborted();
      await job.run({ fencingToken: lock?.fencingToken ?? null, signal: lock?.signal ?? new AbortController().signal, scheduledAt, replicaId: deps.replicaId, trigger });
    } catch (error) {
      failure = error;
    }
    // Finishing after the lock was lost is not a success: another replica may have run meanwhile.
    if (lock?.signal.aborted) failure = lock.signal.reason;
    const finishedAt = deps.clock();
    const durationMs = Math.max(0, finishedAt.getTime() - run.startedAt!.getTime());
    const status = failure === null ? "succeeded" : "failed";
    await deps.prisma.cronRun.update({ where: { id: run.id }, data: { finishedAt, durationMs, status, error: failure === null ? null : describeError(failure) } });
    cronExecutions.inc({ ...labels, status });
    cronDuration.observe({ task: job.name }, durationMs / 1000);
    await deps.events.publish("cronRun", { id: run.id, job: job.name, status, durationMs }).catch(() => {});
  } finally {
    await lock?.release().catch(() => false);
  }
}

/**
 * Holding the job's lock means no earlier run of it can still be going: a `running` row with an
 * older fencing token belongs to a replica that died mid-run (kill -9). It is closed as failed, so
 * history tells the truth and missed fire times are recorded again.
 */
async function closeOrphanedRuns(deps: RunDeps, job: string, current: CronRun): Promise<void> {
  await deps.prisma.$executeRaw`
    UPDATE "CronRun" SET status = 'failed', "finishedAt" = ${deps.clock()},
      error = 'the replica running it stopped before the run ended (a newer run took the lock)'
    WHERE job = ${job} AND status = 'running' AND id <> ${current.id}::uuid
      AND ("fencingToken" IS NULL OR "fencingToken"::numeric < ${current.fencingToken}::numeric)`;
}
