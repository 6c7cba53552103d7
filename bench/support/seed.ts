// Pools, pods, slots and tasks written straight into the database in a few statements, so
// that seeding thousands of pods takes a moment and measures nothing of Berth's own code.
import type { Pool, Prisma, PrismaClient } from "@berth/core/db";

export interface SeedPoolOptions {
  name: string;
  pods: number;
  slotsPerPod?: number;
  /** Slots per pod (the lowest indexes) holding a running task. */
  busyPerPod?: number;
  /** Pool columns to set (e.g. maxPods above the API's limit, autoscale). */
  pool?: Partial<Prisma.PoolCreateInput>;
}

export async function seedPool(prisma: PrismaClient, options: SeedPoolOptions): Promise<{ pool: Pool; podNames: string[] }> {
  const slots = options.slotsPerPod ?? 3;
  const pool = await prisma.pool.create({
    data: { name: options.name, slotsPerPod: slots, minPods: 0, maxPods: Math.max(10, options.pods), ...options.pool },
  });
  // Creation times one millisecond apart keep the pods' order (and bin-packing's tie-break) stable.
  await prisma.$executeRawUnsafe(
    `INSERT INTO "Pod" (id, "poolId", name, phase, "createdAt", "readyAt", "lastHeartbeatAt", "phaseChangedAt")
     SELECT gen_random_uuid(), $1::uuid, $2 || '-p' || i, 'Ready', now() - interval '1 hour' + i * interval '1 millisecond', now(), now(), now() - interval '1 hour'
     FROM generate_series(0, $3::int - 1) AS i`,
    pool.id,
    options.name,
    options.pods,
  );
  await prisma.$executeRawUnsafe(
    `INSERT INTO "Slot" (id, "podId", index) SELECT gen_random_uuid(), p.id, k FROM "Pod" p, generate_series(0, $2::int - 1) AS k WHERE p."poolId" = $1::uuid`,
    pool.id,
    slots,
  );
  if (options.busyPerPod) await occupySlots(prisma, pool.id, options.busyPerPod);
  const podNames = Array.from({ length: options.pods }, (_, i) => `${options.name}-p${i}`);
  return { pool, podNames };
}

/** Gives the lowest `perPod` slots of every pod a running task, with its audit record, as an allocation would. */
async function occupySlots(prisma: PrismaClient, poolId: string, perPod: number): Promise<void> {
  await prisma.$executeRawUnsafe(
    `WITH target AS (
       SELECT s.id AS slot_id, p.name AS pod, s.index, gen_random_uuid() AS task_id
       FROM "Slot" s JOIN "Pod" p ON p.id = s."podId"
       WHERE p."poolId" = $1::uuid AND s.index < $2::int
     ), tasks AS (
       INSERT INTO "Task" (id, "poolId", type, status, "podName", "slotIndex", attempts, "startedAt", "updatedAt")
       SELECT task_id, $1::uuid, 'bench', 'running', pod, index, 1, now(), now() FROM target
       RETURNING id
     ), audit AS (
       INSERT INTO "SlotAssignment" (id, "slotId", "podName", "slotIndex", "taskId")
       SELECT gen_random_uuid(), slot_id, pod, index, task_id FROM target WHERE task_id IN (SELECT id FROM tasks)
       RETURNING id
     )
     UPDATE "Slot" s SET state = 'running', "taskId" = target.task_id FROM target WHERE s.id = target.slot_id`,
    poolId,
    perPod,
  );
  // The pods' counters, as allocation keeps them.
  await prisma.$executeRawUnsafe(`UPDATE "Pod" SET "busySlots" = $2::int, "tasksStarted" = $2::int WHERE "poolId" = $1::uuid`, poolId, perPod);
}

/**
 * `count` pending tasks, oldest first in submission order, as submitTask leaves them when no slot
 * is free. With `keys`, every second task carries one of that many concurrency keys in turn
 * (the database blocks each key's later tasks behind its first, as for a submission).
 */
export async function seedPendingTasks(prisma: PrismaClient, poolId: string, count: number, options: { keys?: number } = {}): Promise<void> {
  await prisma.$executeRawUnsafe(
    `INSERT INTO "Task" (id, "poolId", type, "updatedAt", "concurrencyKey")
     SELECT gen_random_uuid(), $1::uuid, 'bench', now(), CASE WHEN $3::int > 0 AND i % 2 = 0 THEN 'key-' || ((i / 2) % $3::int) END
     FROM generate_series(1, $2::int) AS i`,
    poolId,
    count,
    options.keys ?? 0,
  );
}
