-- Concurrency keys, a cap on reserved capacity, tasks per pod, and an allocation without a
-- per-call count of busy slots.

-- AlterTable
ALTER TABLE "Pod" ADD COLUMN     "busySlots" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reservedSlots" INTEGER NOT NULL DEFAULT 0;
-- Also added by the pod-recycling migration: whichever runs first adds it.
ALTER TABLE "Pod" ADD COLUMN IF NOT EXISTS "tasksStarted" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "maxReservedFraction" DOUBLE PRECISION NOT NULL DEFAULT 1,
ADD COLUMN     "reservedSlotSeconds" DOUBLE PRECISION NOT NULL DEFAULT 0;
-- Also added by the pod-recycling migration: whichever runs first adds it.
ALTER TABLE "Pool" ADD COLUMN IF NOT EXISTS "maxTasksPerPod" INTEGER;

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "concurrencyKey" TEXT,
ADD COLUMN     "keyBlocked" BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE "Pool" ADD CONSTRAINT "Pool_maxReservedFraction_range" CHECK ("maxReservedFraction" >= 0 AND "maxReservedFraction" <= 1);
ALTER TABLE "Task" ADD CONSTRAINT "Task_concurrencyKey_length" CHECK (char_length("concurrencyKey") BETWEEN 1 AND 128);

-- A pod's row is now updated by every allocation and release (its counters): room on each page
-- lets those be HOT updates (no new index entries), so allocation's scan of the pool's pods stays
-- short however many updates came before.
ALTER TABLE "Pod" SET (fillfactor = 50);

-- The counters start from the slots as they are.
UPDATE "Pod" p SET "busySlots" = c.busy, "reservedSlots" = c.reserved
FROM (SELECT "podId", count(*) FILTER (WHERE state <> 'idle') AS busy, count(*) FILTER (WHERE state = 'reserved') AS reserved FROM "Slot" GROUP BY "podId") c
WHERE c."podId" = p.id;
UPDATE "Pod" p SET "tasksStarted" = (SELECT count(*) FROM "SlotAssignment" a WHERE a."podName" = p.name) WHERE p."tasksStarted" = 0;

-- ---------------------------------------------------------------------------------------------
-- CONCURRENCY KEYS. Of a pool's tasks sharing a key, exactly one at a time is the key's HOLDER:
-- the active one (running, apply_pending = its plan waits for approval on a reserved slot,
-- applying), or, when none is active, the oldest pending one. Every other pending task of the
-- key is `keyBlocked`. The unique index below makes the database refuse a second holder (so a
-- second active task of a key) whatever any replica does.
--
-- Why the flag: the allocation queue (Task_pending_queue_idx) holds only pending tasks that are
-- NOT blocked, so its head is always runnable as far as keys go: a blocked key costs the queue
-- head nothing, however many tasks wait behind it, and a key's tasks leave the queue in
-- submission order because only its oldest pending task is ever unblocked. No scan of the queue
-- skips anything for keys (the only filter left is the reserved-capacity cap on plan_and_apply).
--
-- The flag is kept by two triggers: a new keyed task is blocked iff its key has a holder; when
-- the holder ends (succeeded, failed, cancelled, expired) the key's oldest pending task is
-- unblocked. Requeueing (running → pending) keeps the holder a holder, first in line again.
-- Both take a transaction-scoped advisory lock on (pool, key), so a submission and the end of
-- the holder cannot miss each other.
-- ---------------------------------------------------------------------------------------------
CREATE UNIQUE INDEX "Task_concurrency_key_holder_key" ON "Task" ("poolId", "concurrencyKey")
  WHERE "concurrencyKey" IS NOT NULL AND (status IN ('running', 'apply_pending', 'applying') OR (status = 'pending' AND NOT "keyBlocked"));

-- A key's waiting tasks in submission order: what unblocking and `supersede` read.
CREATE INDEX "Task_concurrency_key_queue_idx" ON "Task" ("poolId", "concurrencyKey", seq) WHERE "concurrencyKey" IS NOT NULL AND status = 'pending';

DROP INDEX "Task_pending_queue_idx";
CREATE INDEX "Task_pending_queue_idx" ON "Task" ("poolId", (seq::bigint)) WHERE status = 'pending' AND NOT "keyBlocked";

-- One lock per (pool, key); class 1802 keeps it apart from Berth's other advisory locks.
CREATE FUNCTION berth_lock_key(pool_id uuid, key text) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(1802, hashtext(pool_id::text || '/' || key)) $$;

CREATE FUNCTION berth_task_key_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM berth_lock_key(NEW."poolId", NEW."concurrencyKey");
  -- The submission order of a key is the order its submissions took the key's lock: the number
  -- drawn before the lock could be older than a submission that took the lock first.
  NEW.seq := nextval(pg_get_serial_sequence('"Task"', 'seq'));
  -- A statement after the lock sees what the lock's previous holder committed.
  NEW."keyBlocked" := NEW.status = 'pending' AND EXISTS (
    SELECT 1 FROM "Task" h
    WHERE h."poolId" = NEW."poolId" AND h."concurrencyKey" = NEW."concurrencyKey"
      AND (h.status IN ('running', 'apply_pending', 'applying') OR (h.status = 'pending' AND NOT h."keyBlocked")));
  RETURN NEW;
END
$$;

CREATE TRIGGER "Task_key_on_insert" BEFORE INSERT ON "Task"
  FOR EACH ROW WHEN (NEW."concurrencyKey" IS NOT NULL) EXECUTE FUNCTION berth_task_key_on_insert();

-- Unblocks the oldest pending task of the key, once the key has no holder. It never waits for
-- a task's row lock: when the task to unblock is locked by another transaction, that one
-- decides (it either ends the task, and its own call here unblocks the next, or leaves it, and
-- the reconcile pass's berth_unblock_keys repairs it). Loops past tasks that ended meanwhile.
CREATE FUNCTION berth_unblock_key(pool_id uuid, key text, at timestamp(3)) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  next_id uuid;
BEGIN
  PERFORM berth_lock_key(pool_id, key);
  LOOP
    IF EXISTS (SELECT 1 FROM "Task" h WHERE h."poolId" = pool_id AND h."concurrencyKey" = key
               AND (h.status IN ('running', 'apply_pending', 'applying') OR (h.status = 'pending' AND NOT h."keyBlocked"))) THEN
      RETURN;
    END IF;
    SELECT t.id INTO next_id FROM "Task" t
    WHERE t."poolId" = pool_id AND t."concurrencyKey" = key AND t.status = 'pending'
    ORDER BY t.seq LIMIT 1;
    IF next_id IS NULL THEN
      RETURN;
    END IF;
    -- Its queue wait starts now (allocation measures it from updatedAt).
    UPDATE "Task" SET "keyBlocked" = false, "updatedAt" = at
    WHERE id = (SELECT l.id FROM "Task" l WHERE l.id = next_id AND l.status = 'pending' AND l."keyBlocked" FOR UPDATE SKIP LOCKED);
    IF FOUND THEN
      RETURN;
    END IF;
    -- Still pending and blocked: locked by another transaction, which decides (see above).
    IF EXISTS (SELECT 1 FROM "Task" l WHERE l.id = next_id AND l.status = 'pending' AND l."keyBlocked") THEN
      RETURN;
    END IF;
  END LOOP;
END
$$;

-- The repair, level-triggered: every key of the pool with waiting tasks and no holder gets its
-- oldest one unblocked. Run by the reconcile pass; finds nothing unless a task that was to be
-- unblocked was locked by a transaction that left it as it was.
CREATE FUNCTION berth_unblock_keys(pool_id uuid, at timestamp(3)) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  stuck text;
  n integer := 0;
BEGIN
  FOR stuck IN
    SELECT DISTINCT w."concurrencyKey" FROM "Task" w
    WHERE w."poolId" = pool_id AND w."concurrencyKey" IS NOT NULL AND w.status = 'pending' AND w."keyBlocked"
      AND NOT EXISTS (SELECT 1 FROM "Task" h WHERE h."poolId" = pool_id AND h."concurrencyKey" = w."concurrencyKey"
                      AND (h.status IN ('running', 'apply_pending', 'applying') OR (h.status = 'pending' AND NOT h."keyBlocked")))
    LIMIT 1000
  LOOP
    PERFORM berth_unblock_key(pool_id, stuck, at);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

CREATE FUNCTION berth_task_key_released() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM berth_unblock_key(NEW."poolId", NEW."concurrencyKey", GREATEST(NEW."updatedAt", OLD."updatedAt"));
  RETURN NULL;
END
$$;

-- A keyed task that was waiting or active ended. (A blocked one ending unblocks nothing by
-- itself, but it may be the task an ending holder could not unblock because it was locked.)
CREATE TRIGGER "Task_key_released" AFTER UPDATE OF status ON "Task"
  FOR EACH ROW WHEN (
    OLD."concurrencyKey" IS NOT NULL
    AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'expired')
    AND OLD.status IN ('pending', 'running', 'apply_pending', 'applying')
  ) EXECUTE FUNCTION berth_task_key_released();

-- ---------------------------------------------------------------------------------------------
-- POD COUNTERS. Pod."busySlots" (running or reserved) and Pod."reservedSlots" replace the count
-- of busy slots allocation made on every call. They change in the statement that changes a
-- slot's state: allocation (idle → running) counts its own slot in the same statement; every
-- other change (reserve, approve, release, a Lost pod's slots, deleted slots) is counted by the
-- trigger below. A reservation that ends adds its duration to Pool."reservedSlotSeconds".
--
-- LOCK-ORDER REVIEW (with the crash-only core: Task → Slot → Pod → Pool).
--  * berth_allocate: the task, then the slot and its pod's row, all with SKIP LOCKED (it never
--    waits, so it closes no cycle), then updates that pod's counters. The Pool row is only read.
--    Task → Slot → Pod. A pod passed over because its row was locked gets the work from whoever
--    held it: an allocation goes on placing, a release places the next task after its commit, a
--    heartbeat places pending work of its pool.
--  * The Slot trigger runs inside the statement that updated or deleted the slot, whose row lock
--    that statement already holds, and then updates the pod: Slot → Pod; a reservation's end
--    also updates the pool: → Pool. Its callers: finish/cancel/expire/approve/reserve (task,
--    then slot), the sync of task status into slots (task, then slot), marking a pod Lost
--    (tasks, slots, then the pod it already locked), draining and deleting pods (slots, then
--    the pod). Nothing locks a pod and then waits for one of its slots, or a pool and then a
--    pod, so no cycle can form.
--  * Concurrency keys: a (pool, key) advisory lock. A task that ends takes it in its status
--    update's trigger, after the task's row lock (for a Lost pod: after its tasks, slots and the
--    pod), and may then go on to its slot and pod. A submission takes it holding no other lock
--    and only inserts; `supersede` and unblocking take the tasks they change with SKIP LOCKED,
--    so nobody holding a key lock waits for a task row. Two enders contend for one key's lock
--    only if both end tasks of that key, and of a key at most one task is active (on a slot),
--    so their slot and pod locks cannot cross. The key lock closes no cycle. Allocation takes
--    no key lock: its queue holds no blocked task.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION berth_slot_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_state "SlotState" := CASE WHEN TG_OP = 'INSERT' THEN 'idle' ELSE OLD.state END;
  new_state "SlotState" := CASE WHEN TG_OP = 'DELETE' THEN 'idle' ELSE NEW.state END;
  pod_id uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD."podId" ELSE NEW."podId" END;
  pool_id uuid;
BEGIN
  UPDATE "Pod" p
  SET "busySlots" = GREATEST(0, p."busySlots" + (new_state <> 'idle')::int - (old_state <> 'idle')::int),
      "reservedSlots" = GREATEST(0, p."reservedSlots" + (new_state = 'reserved')::int - (old_state = 'reserved')::int)
  WHERE p.id = pod_id
  RETURNING p."poolId" INTO pool_id;
  IF old_state = 'reserved' AND new_state <> 'reserved' AND pool_id IS NOT NULL THEN
    -- Reserved since the slot's last change; ended now (the caller's clock when it set updatedAt).
    UPDATE "Pool" SET "reservedSlotSeconds" = "reservedSlotSeconds" + GREATEST(0, extract(epoch FROM (
      CASE WHEN TG_OP = 'UPDATE' AND NEW."updatedAt" > OLD."updatedAt" THEN NEW."updatedAt" ELSE (now() AT TIME ZONE 'UTC')::timestamp(3) END - OLD."updatedAt")))
    WHERE id = pool_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Slot_counters_update" AFTER UPDATE OF state ON "Slot"
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT (OLD.state = 'idle' AND NEW.state = 'running'))
  EXECUTE FUNCTION berth_slot_counters();
CREATE TRIGGER "Slot_counters_insert" AFTER INSERT ON "Slot"
  FOR EACH ROW WHEN (NEW.state <> 'idle') EXECUTE FUNCTION berth_slot_counters();
CREATE TRIGGER "Slot_counters_delete" AFTER DELETE ON "Slot"
  FOR EACH ROW WHEN (OLD.state <> 'idle') EXECUTE FUNCTION berth_slot_counters();

-- ---------------------------------------------------------------------------------------------
-- Allocation, still one statement. Compared with the crash_only_core version:
--  * the queue holds no task blocked by its concurrency key (see above);
--  * plan_and_apply tasks are held back while the pool's reserved share (reserved slots plus
--    plans running, each about to reserve its slot) has reached maxReservedFraction of the
--    Ready pods' slots; that is only computed for a pool with a cap below 1;
--  * the bin-packing order reads Pod."busySlots" instead of counting slots, and plan_and_apply
--    tasks go first to pods already holding reservations, so reservations concentrate;
--  * a pod that has started maxTasksPerPod tasks takes none: the pod's row is locked with the
--    slot and its counters are updated under the condition, and the slot is taken only if that
--    update happened, so two allocations racing for the last task of a pod cannot both win;
--  * it returns when the task entered the queue ("queuedAt": submission, unblocking or requeue).
-- ---------------------------------------------------------------------------------------------
DROP FUNCTION berth_allocate(uuid, timestamp(3), timestamp(3));

CREATE FUNCTION berth_allocate(pool_id uuid, at timestamp(3), fresh_after timestamp(3))
RETURNS TABLE ("taskId" uuid, "taskType" text, "createdAt" timestamp(3), "queuedAt" timestamp(3), "podName" text, "slotIndex" integer, started integer, audited integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH pool AS (
    SELECT pl."maxTasksPerPod" AS max_tasks,
      CASE WHEN pl."maxReservedFraction" >= 1 THEN false ELSE
        (SELECT coalesce(sum(rp."reservedSlots"), 0) FROM "Pod" rp WHERE rp."poolId" = pool_id)
        + (SELECT count(*) FROM "Task" rt WHERE rt."poolId" = pool_id AND rt.status = 'running' AND rt.type = 'plan_and_apply')
        >= floor(pl."maxReservedFraction" * pl."slotsPerPod" * (SELECT count(*) FROM "Pod" cp WHERE cp."poolId" = pool_id AND cp.phase = 'Ready'))
      END AS plans_capped
    FROM "Pool" pl WHERE pl.id = pool_id
  ), task AS (
    SELECT t.id, t.type, t."createdAt", t."updatedAt"
    FROM "Task" t, pool
    WHERE t."poolId" = pool_id AND t.status = 'pending' AND NOT t."keyBlocked"
      AND NOT (pool.plans_capped AND t.type = 'plan_and_apply')
    -- The pending-queue index is the only one ordered by this expression, so the planner
    -- reads the pool's queue head from it (see the slot_functions migration).
    ORDER BY t.seq::bigint
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
  ), slot AS (
    SELECT s.id, s.index, p.id AS pod_id, p.name AS pod_name
    FROM task, pool, "Slot" s
    JOIN "Pod" p ON p.id = s."podId"
    WHERE p."poolId" = pool_id AND p.phase = 'Ready' AND p."lastHeartbeatAt" >= fresh_after AND s.state = 'idle'
      AND (pool.max_tasks IS NULL OR p."tasksStarted" < pool.max_tasks)
    ORDER BY (task.type = 'plan_and_apply' AND p."reservedSlots" > 0) DESC, p."busySlots" DESC, p."createdAt", p.name, s.index
    LIMIT 1
    -- The pod row too, for its counters: a pod another statement is changing (an allocation, a
    -- release, a heartbeat) is passed over rather than waited for, so concurrent allocations
    -- spread over pods instead of queueing on the fullest one.
    FOR UPDATE OF s SKIP LOCKED
    FOR NO KEY UPDATE OF p SKIP LOCKED
  ), pod AS (
    UPDATE "Pod" p
    SET "busySlots" = p."busySlots" + 1, "tasksStarted" = p."tasksStarted" + 1
    FROM slot, pool
    WHERE p.id = slot.pod_id AND (pool.max_tasks IS NULL OR p."tasksStarted" < pool.max_tasks)
    RETURNING p.id
  ), taken AS (
    UPDATE "Slot" s
    SET state = 'running', "taskId" = task.id, "reservedUntil" = NULL, "updatedAt" = at
    FROM task, slot, pod
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
  SELECT task.id, task.type::text, task."createdAt"::timestamp(3), task."updatedAt"::timestamp(3), slot.pod_name::text, taken.index::integer,
         (SELECT count(*) FROM started)::integer, (SELECT count(*) FROM audit)::integer
  FROM task, slot, taken;
END
$$;
