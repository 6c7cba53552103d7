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

-- Closes a task's open audit record. Call it while holding the slot's row lock: the release
-- then takes its number from the audit sequence before the slot's next holder can take one.
CREATE FUNCTION berth_close_assignment(task_id uuid, note text)
RETURNS void
LANGUAGE sql AS $$
  UPDATE "SlotAssignment" SET "releasedAt" = now(), "releaseNote" = note,
    "releasedSeq" = nextval(pg_get_serial_sequence('"SlotAssignment"', 'assignedSeq'))
  WHERE "taskId" = task_id AND "releasedAt" IS NULL;
$$;

-- Frees the slot a task holds and closes its audit record, in one call: the slot's row is
-- locked by its update before the record is closed. No row when the task holds no slot.
CREATE FUNCTION berth_release_slot(task_id uuid, note text)
RETURNS TABLE (pod text, index integer, pool text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  freed record;
BEGIN
  UPDATE "Slot" s SET state = 'idle', "taskId" = NULL, "reservedUntil" = NULL, "updatedAt" = now()
  FROM "Pod" p JOIN "Pool" pl ON pl.id = p."poolId"
  WHERE s."taskId" = task_id AND p.id = s."podId"
  RETURNING p.name AS pod_name, s.index AS slot_index, pl.name AS pool_name INTO freed;
  PERFORM berth_close_assignment(task_id, note);
  IF freed.pod_name IS NOT NULL THEN
    RETURN QUERY SELECT freed.pod_name::text, freed.slot_index::integer, freed.pool_name::text;
  END IF;
END
$$;

-- The common end of a task: a running or applying task placed on the reporting pod (and in
-- the agent's pool, when one is given) succeeds or fails, its slot is freed and its audit
-- record closed. The task's row lock orders this against every other transition. No row when
-- the task is in any other state or elsewhere (the caller then applies the full rules).
CREATE FUNCTION berth_finish_task(task_id uuid, new_status "TaskStatus", finished_at timestamp(3), new_output jsonb, new_error text, on_pod text, in_pool uuid)
RETURNS TABLE (task "Task", "freedPod" text, "freedIndex" integer, "freedPool" text)
LANGUAGE plpgsql AS $$
DECLARE
  ended "Task";
  freed record;
BEGIN
  UPDATE "Task" t
  SET status = new_status, "finishedAt" = finished_at, error = new_error, "updatedAt" = now(),
      output = CASE
        WHEN new_output IS NULL THEN t.output
        -- An applied plan keeps its plan beside the apply's result.
        WHEN t.status = 'applying' AND jsonb_typeof(t.output) = 'object' AND jsonb_typeof(new_output) = 'object' THEN t.output || new_output
        ELSE new_output
      END
  WHERE t.id = task_id AND t.status IN ('running', 'applying') AND t."podName" IS NOT NULL
    AND (on_pod IS NULL OR t."podName" = on_pod) AND (in_pool IS NULL OR t."poolId" = in_pool)
  RETURNING t.* INTO ended;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT r.pod, r.index, r.pool INTO freed FROM berth_release_slot(task_id, new_status::text) r;
  RETURN QUERY SELECT ended, freed.pod, freed.index, freed.pool;
END
$$;
