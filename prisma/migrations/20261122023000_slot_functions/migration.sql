-- Allocation as a PL/pgSQL function: the statement is the same single statement as before,
-- but its plan is prepared once per connection instead of on every call (planning it cost
-- more than running it).
--
-- Places the oldest pending task of the pool on one idle slot of a Ready pod. Rows are
-- claimed with FOR UPDATE SKIP LOCKED, so concurrent allocators (in any number of processes)
-- never take the same task or the same slot; the slot update is guarded by state = 'idle'
-- as well. Bin-packing: the Ready pod with the most busy slots first, so that other pods
-- empty out and can be scaled down. No row when there is no pending task or no idle slot.
CREATE FUNCTION berth_allocate(pool_id uuid)
RETURNS TABLE ("taskId" uuid, "taskType" text, "createdAt" timestamp(3), "podName" text, "slotIndex" integer, started integer, audited integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH task AS (
    SELECT t.id, t.type, t."createdAt"
    FROM "Task" t
    WHERE t."poolId" = pool_id AND t.status = 'pending'
    -- The pending-queue index below is the only one ordered by this expression, so the
    -- planner reads the pool's queue head from it, whatever the statistics say: ordered by
    -- plain seq it may walk Task_seq_key past every task already taken.
    ORDER BY t.seq::bigint
    LIMIT 1
    FOR UPDATE SKIP LOCKED
  ), busy AS (
    SELECT b."podId", count(*) FILTER (WHERE b.state <> 'idle') AS n
    FROM "Slot" b JOIN "Pod" bp ON bp.id = b."podId"
    WHERE bp."poolId" = pool_id AND bp.phase = 'Ready' AND EXISTS (SELECT 1 FROM task)
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
    SET state = 'running', "taskId" = task.id, "reservedUntil" = NULL, "updatedAt" = now()
    FROM task, slot
    WHERE s.id = slot.id AND s.state = 'idle'
    RETURNING s.id, s.index, s."taskId"
  ), started AS (
    UPDATE "Task" t
    SET status = 'running', "podName" = slot.pod_name, "slotIndex" = taken.index,
        "startedAt" = now(), attempts = t.attempts + 1, "updatedAt" = now()
    FROM taken, slot
    WHERE t.id = taken."taskId"
    RETURNING t.id
  ), audit AS (
    INSERT INTO "SlotAssignment" (id, "slotId", "podName", "slotIndex", "taskId")
    SELECT gen_random_uuid(), taken.id, slot.pod_name, taken.index, taken."taskId" FROM taken, slot
    RETURNING id
  )
  SELECT task.id, task.type::text, task."createdAt"::timestamp(3), slot.pod_name::text, taken.index::integer,
         (SELECT count(*) FROM started)::integer, (SELECT count(*) FROM audit)::integer
  FROM task, slot, taken;
END
$$;

-- The queue of pending tasks, per pool in submission order: allocation reads its head. Only
-- pending rows are in it, so the head is found without walking past finished tasks.
CREATE INDEX "Task_pending_queue_idx" ON "Task" ("poolId", (seq::bigint)) WHERE status = 'pending';
