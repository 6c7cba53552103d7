import type { CoreContext } from "../context.js";
import { retryOnConflict, type Prisma } from "../db/index.js";
import { closeAssignment, publishSlotChange } from "../slots/release.js";

export interface LostPodOutcome {
  pod: string;
  pool: string;
  poolId: string;
  failed: string[];
  requeued: string[];
  slots: number;
}

export interface DetectLostOptions {
  timeoutSeconds: number;
  startTimeoutSeconds: number;
  poolId?: string;
  /** Pods whose runtime pod is gone or ended: Lost whatever their heartbeat says. */
  gone?: readonly string[];
  /** Judge the other pods by their heartbeats (default true; a replica that just started waits). */
  heartbeats?: boolean;
  /** Checked at the end of each pod's transaction (the pool's fencing token); throws to undo it. */
  fence?: (tx: Prisma.TransactionClient) => Promise<void>;
}

/**
 * Declares Lost every pod whose agent missed heartbeats past `timeoutSeconds` (a pod that never
 * registered gets `startTimeoutSeconds`). Its running tasks fail, or go back to pending when the
 * pool's policy is `requeue` and attempts remain; a task its agent never confirmed starting goes
 * back to pending whatever the policy (no work began). Its slots are removed.
 */
export async function detectLostPods(ctx: CoreContext, opts: DetectLostOptions): Promise<LostPodOutcome[]> {
  const now = ctx.now();
  const heartbeatCutoff = new Date(now.getTime() - opts.timeoutSeconds * 1000);
  const startCutoff = new Date(now.getTime() - opts.startTimeoutSeconds * 1000);
  const gone = new Set(opts.gone ?? []);
  const stale = [
    { phase: { in: ["Ready", "Draining"] }, lastHeartbeatAt: { lt: heartbeatCutoff } },
    { phase: { in: ["Pending", "Starting"] }, lastHeartbeatAt: null, createdAt: { lt: startCutoff } },
    { phase: { in: ["Pending", "Starting"] }, lastHeartbeatAt: { lt: heartbeatCutoff } },
  ] satisfies Prisma.PodWhereInput[];
  const candidates = await ctx.prisma.pod.findMany({
    where: {
      ...(opts.poolId ? { poolId: opts.poolId } : {}),
      OR: [...(opts.heartbeats === false ? [] : stale), ...(gone.size > 0 ? [{ name: { in: [...gone] }, phase: { in: ["Pending", "Starting", "Ready", "Draining"] } }] : [])] as Prisma.PodWhereInput[],
    },
    select: { id: true, name: true },
  });
  const outcomes: LostPodOutcome[] = [];
  for (const { id, name } of candidates) {
    const why = gone.has(name) ? "its runtime pod is gone" : null;
    const outcome = await retryOnConflict(() => markLost(ctx, id, heartbeatCutoff, startCutoff, now, why, opts.fence));
    if (!outcome) continue;
    outcomes.push(outcome);
    for (let index = 0; index < outcome.slots; index++) await publishSlotChange(ctx, { pool: outcome.pool, pod: outcome.pod, index }, "idle", null);
  }
  return outcomes;
}

/** A slot changed hands between reading the pod's tasks and locking its slots: start over. */
class SlotsMovedError extends Error {}

/** One transaction per attempt: when a slot moved meanwhile, its locks are given up before trying again. */
async function markLost(
  ctx: CoreContext,
  podId: string,
  heartbeatCutoff: Date,
  startCutoff: Date,
  now: Date,
  gone: string | null,
  fence?: (tx: Prisma.TransactionClient) => Promise<void>,
): Promise<LostPodOutcome | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await ctx.prisma.$transaction((tx) => markLostOnce(tx, podId, heartbeatCutoff, startCutoff, now, gone, fence));
    } catch (error) {
      if (!(error instanceof SlotsMovedError)) throw error;
    }
  }
  // The pod keeps taking work, so it is answering after all: the next pass judges it again.
  return null;
}

async function markLostOnce(
  tx: Prisma.TransactionClient,
  podId: string,
  heartbeatCutoff: Date,
  startCutoff: Date,
  now: Date,
  gone: string | null,
  fence?: (tx: Prisma.TransactionClient) => Promise<void>,
): Promise<LostPodOutcome | null> {
  // Lock order (crash_only_core migration): tasks, then slots, then the pod, then the pool.
  const held = await tx.$queryRawUnsafe<{ taskId: string }[]>(`SELECT "taskId" FROM "Slot" WHERE "podId" = $1::uuid AND "taskId" IS NOT NULL`, podId);
  const taskIds = held.map((h) => h.taskId).sort();
  const tasks = taskIds.length
    ? await tx.$queryRawUnsafe<{ id: string; status: string; attempts: number; acknowledgedAt: Date | null }[]>(
        `SELECT id, status::text AS status, attempts, "acknowledgedAt" FROM "Task" WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        taskIds,
      )
    : [];
  const slots = await tx.$queryRawUnsafe<{ id: string; taskId: string | null }[]>(`SELECT id, "taskId" FROM "Slot" WHERE "podId" = $1::uuid ORDER BY index FOR UPDATE`, podId);
  // An allocation (which never waits) may have taken an idle slot since: its task is not locked.
  if (slots.some((s) => s.taskId !== null && !taskIds.includes(s.taskId))) throw new SlotsMovedError();
  const locked = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM "Pod" WHERE id = $1::uuid FOR UPDATE`, podId);
  if (locked.length === 0) return null;
  // Re-read under the lock: a heartbeat may have arrived since the scan.
  const pod = await tx.pod.findUniqueOrThrow({ where: { id: podId }, include: { pool: true } });
  const stale = gone !== null || (pod.lastHeartbeatAt ? pod.lastHeartbeatAt < heartbeatCutoff : pod.createdAt < startCutoff);
  if (pod.phase === "Lost" || pod.phase === "Terminating" || !stale) return null;
  const cause = gone ?? "it missed heartbeats";

  const failed: string[] = [];
  const requeued: string[] = [];
  for (const slot of slots) {
    if (!slot.taskId) continue;
    const task = tasks.find((t) => t.id === slot.taskId)!;
    const neverStarted = task.status === "running" && task.acknowledgedAt === null;
    const canRequeue = neverStarted || (pod.pool.lostPodPolicy === "requeue" && task.status === "running" && task.attempts < pod.pool.maxAttempts);
    await tx.slot.update({ where: { id: slot.id }, data: { state: "idle", taskId: null, reservedUntil: null } });
    await closeAssignment(tx, task.id, "pod lost");
    if (task.status !== "running" && task.status !== "applying" && task.status !== "apply_pending") {
      // A task the server already ended (its slot held while its agent stopped): nothing more to do.
      await tx.task.update({ where: { id: task.id }, data: { stopRequestedAt: null } });
    } else if (canRequeue) {
      await tx.task.update({
        where: { id: task.id },
        data: {
          status: "pending",
          podName: null,
          slotIndex: null,
          startedAt: null,
          deadlineAt: null,
          acknowledgedAt: null,
          // Work its agent never began is not an attempt.
          ...(neverStarted ? { attempts: { decrement: 1 } } : {}),
        },
      });
      requeued.push(task.id);
    } else {
      await tx.task.update({
        where: { id: task.id },
        data: { status: "failed", finishedAt: now, failureReason: "pod_lost", error: `pod_lost: pod ${pod.name} was lost (${cause}) while the task was ${task.status}` },
      });
      failed.push(task.id);
    }
  }
  await tx.slot.deleteMany({ where: { podId } });
  await tx.pod.update({ where: { id: podId }, data: { phase: "Lost", phaseChangedAt: now } });
  const livePods = await tx.pod.count({ where: { poolId: pod.poolId, phase: { notIn: ["Lost", "Terminating"] } } });
  await tx.scalingEvent.create({
    data: {
      poolId: pod.poolId,
      kind: "pod_lost",
      fromPods: livePods + 1,
      toPods: livePods,
      utilization: 0,
      reason: `pod ${pod.name} lost: ${cause}; ${failed.length} task(s) failed, ${requeued.length} requeued`,
      at: now,
    },
  });
  await fence?.(tx);
  return { pod: pod.name, pool: pod.pool.name, poolId: pod.poolId, failed, requeued, slots: slots.length };
}
