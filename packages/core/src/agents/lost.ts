import type { CoreContext } from "../context.js";
import type { Prisma } from "../db/index.js";
import { closeAssignment, publishSlotChange } from "../slots/release.js";

export interface LostPodOutcome {
  pod: string;
  pool: string;
  poolId: string;
  failed: string[];
  requeued: string[];
  slots: number;
}

/**
 * Declares Lost every pod whose agent missed heartbeats past `timeoutSeconds` (a pod that
 * never registered gets `startTimeoutSeconds`). Its running tasks fail, or go back to pending
 * when the pool's policy is `requeue` and attempts remain; its slots are removed.
 */
export async function detectLostPods(
  ctx: CoreContext,
  opts: { timeoutSeconds: number; startTimeoutSeconds: number; poolId?: string },
): Promise<LostPodOutcome[]> {
  const now = ctx.now();
  const heartbeatCutoff = new Date(now.getTime() - opts.timeoutSeconds * 1000);
  const startCutoff = new Date(now.getTime() - opts.startTimeoutSeconds * 1000);
  const candidates = await ctx.prisma.pod.findMany({
    where: {
      ...(opts.poolId ? { poolId: opts.poolId } : {}),
      OR: [
        { phase: { in: ["Ready", "Draining"] }, lastHeartbeatAt: { lt: heartbeatCutoff } },
        { phase: { in: ["Pending", "Starting"] }, lastHeartbeatAt: null, createdAt: { lt: startCutoff } },
        { phase: { in: ["Pending", "Starting"] }, lastHeartbeatAt: { lt: heartbeatCutoff } },
      ],
    },
    select: { id: true },
  });
  const outcomes: LostPodOutcome[] = [];
  for (const { id } of candidates) {
    const outcome = await ctx.prisma.$transaction((tx) => markLost(tx, id, heartbeatCutoff, startCutoff, now));
    if (!outcome) continue;
    outcomes.push(outcome);
    for (let index = 0; index < outcome.slots; index++) await publishSlotChange(ctx, { pool: outcome.pool, pod: outcome.pod, index }, "idle", null);
  }
  return outcomes;
}

async function markLost(tx: Prisma.TransactionClient, podId: string, heartbeatCutoff: Date, startCutoff: Date, now: Date): Promise<LostPodOutcome | null> {
  // Re-read under a row lock: a heartbeat may have arrived since the scan.
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM "Pod" WHERE id = $1::uuid FOR UPDATE`, podId);
  if (rows.length === 0) return null;
  const pod = await tx.pod.findUniqueOrThrow({ where: { id: podId }, include: { pool: true } });
  const stale = pod.lastHeartbeatAt ? pod.lastHeartbeatAt < heartbeatCutoff : pod.createdAt < startCutoff;
  if (pod.phase === "Lost" || pod.phase === "Terminating" || !stale) return null;

  const slots = await tx.$queryRawUnsafe<{ id: string; taskId: string | null }[]>(
    `SELECT id, "taskId" FROM "Slot" WHERE "podId" = $1::uuid ORDER BY index FOR UPDATE`,
    podId,
  );
  const failed: string[] = [];
  const requeued: string[] = [];
  for (const slot of slots) {
    if (!slot.taskId) continue;
    const task = await tx.task.findUniqueOrThrow({ where: { id: slot.taskId } });
    const canRequeue = pod.pool.lostPodPolicy === "requeue" && task.status === "running" && task.attempts < pod.pool.maxAttempts;
    await tx.slot.update({ where: { id: slot.id }, data: { state: "idle", taskId: null, reservedUntil: null } });
    await closeAssignment(tx, task.id, "pod lost");
    if (canRequeue) {
      await tx.task.update({ where: { id: task.id }, data: { status: "pending", podName: null, slotIndex: null, startedAt: null } });
      requeued.push(task.id);
    } else {
      await tx.task.update({
        where: { id: task.id },
        data: { status: "failed", finishedAt: now, error: `pod ${pod.name} was lost (no heartbeat) while the task was ${task.status}` },
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
      reason: `pod ${pod.name} missed heartbeats; ${failed.length} task(s) failed, ${requeued.length} requeued`,
      at: now,
    },
  });
  return { pod: pod.name, pool: pod.pool.name, poolId: pod.poolId, failed, requeued, slots: slots.length };
}
