-- AlterTable
ALTER TABLE "Pod" ADD COLUMN     "runtimeScope" TEXT;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "fenceToken" BIGINT,
ADD COLUMN     "stopGraceSeconds" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN     "taskTimeoutSeconds" INTEGER DEFAULT 3600,
ADD COLUMN     "timeoutPolicy" TEXT NOT NULL DEFAULT 'fail';

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "acknowledgedAt" TIMESTAMP(3),
ADD COLUMN     "deadlineAt" TIMESTAMP(3),
ADD COLUMN     "failureReason" TEXT,
ADD COLUMN     "stopRequestedAt" TIMESTAMP(3),
ADD COLUMN     "timeoutSeconds" INTEGER;

-- ---------------------------------------------------------------------------------------------
-- LOCK ORDER. Every path that locks more than one of these rows takes them in this order:
--
--     Task  →  Slot  →  Pod  →  Pool
--
-- (children before parents). A transition starts from its task (finish, cancel, approve,
-- reject, expire, deadline, stop confirmation: Task then the slot it holds); marking a pod Lost
-- reads the pod's tasks first, locks them, then its slots, then the pod; draining locks the
-- pod's slots, then the pod; a pool's guard (its fencing token) is checked last, with the Pool
-- row locked FOR SHARE, by every write that acts on the pool (pod creation, drain, delete);
-- deleting a pool locks its live tasks, then its slots, then deletes the pool. Allocation takes
-- its task and slot with SKIP LOCKED and never waits, so it cannot close a cycle.
-- ---------------------------------------------------------------------------------------------

-- Allocation now takes the clock from the caller (so every timestamp of a transition comes
-- from one clock), places only on pods whose agent heartbeated at or after `fresh_after` (a pod
-- that stopped answering, or one left over from before a restart, gets no new work), and sets
-- the task's run deadline.
DROP FUNCTION berth_allocate(uuid);

CREATE FUNCTION berth_allocate(pool_id uuid, at timestamp(3), fresh_after timestamp(3))
RETURNS TABLE ("taskId" uuid, "taskType" text, "createdAt" timestamp(3), "podName" text, "slotIndex" integer, started integer, audited integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH task AS (
    SELECT t.id, t.type, t."createdAt"
    FROM "Task" t
    WHERE t."poolId" = pool_id AND t.status = 'pending'
    -- The pending-queue index is the only one ordered by this expression, so the planner
    -- reads the pool's queue head from it (see the slot_functions migration).
    ORDER BY t.seq::bigint
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  ), busy AS (
    SELECT b."podId", count(*) FILTER (WHERE b.state <> 'idle') AS n
    FROM "Slot" b JOIN "Pod" bp ON bp.id = b."podId"
    WHERE bp."poolId" = pool_id AND bp.phase = 'Ready' AND bp."lastHeartbeatAt" >= fresh_after
      AND EXISTS (SELECT 1 FROM task)
    GROUP BY b."podId"
  ), slot AS (
    SELECT s.id, s.index, p.name AS pod_name
    FROM "Slot" s
    JOIN "Pod" p ON p.id = s."podId"
    JOIN busy ON busy."podId" = s."podId"
    WHERE p."poolId" = pool_id AND p.phase = 'Ready' AND s.state = 'idle'
    ORDER BY busy.n DESC, p."createdAt", p.name, s.index
    LIMIT 1
    FOR UPDATE OF s SKIP LOCKED
  ), taken AS (
    UPDATE "Slot" s
    SET state = 'running', "taskId" = task.id, "reservedUntil" = NULL, "updatedAt" = at
    FROM task, slot
    WHERE s.id = slot.id AND s.state = 'idle'
    RETURNING s.id, s.index, s."taskId"
  ), started AS (
    UPDATE "Task" t
    SET status = 'running', "podName" = slot.pod_name, "slotIndex" = taken.index,
        "startedAt" = at, attempts = t.attempts + 1, "updatedAt" = at,
        "deadlineAt" = CASE WHEN t."timeoutSeconds" IS NULL THEN NULL ELSE at + make_interval(secs => t."timeoutSeconds") END,
        "acknowledgedAt" = NULL, "stopRequestedAt" = NULL
    FROM taken, slot
    WHERE t.id = taken."taskId"
    RETURNING t.id
  ), audit AS (
    INSERT INTO "SlotAssignment" (id, "slotId", "podName", "slotIndex", "taskId", "assignedAt")
    SELECT gen_random_uuid(), taken.id, slot.pod_name, taken.index, taken."taskId", at FROM taken, slot
    RETURNING id
  )
  SELECT task.id, task.type::text, task."createdAt"::timestamp(3), slot.pod_name::text, taken.index::integer,
         (SELECT count(*) FROM started)::integer, (SELECT count(*) FROM audit)::integer
  FROM task, slot, taken;
END
$$;
