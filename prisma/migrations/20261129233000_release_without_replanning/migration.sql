-- Every release of a slot (a task's end, a cancellation, an expiry) closes the task's audit
-- record through berth_close_assignment. As a LANGUAGE sql function that is not inlined (it is an
-- UPDATE), PostgreSQL parsed and planned its statement again on every call, and looked up the
-- sequence by name (pg_get_serial_sequence) each time. As PL/pgSQL its plan is prepared once per
-- connection, and the sequence is resolved once, when the plan is made. Same statement, same
-- locks (the audit row of the task whose slot the caller holds), same result.
CREATE OR REPLACE FUNCTION berth_close_assignment(task_id uuid, note text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "SlotAssignment" SET "releasedAt" = now(), "releaseNote" = note,
    "releasedSeq" = nextval('"SlotAssignment_assignedSeq_seq"'::regclass)
  WHERE "taskId" = task_id AND "releasedAt" IS NULL;
END
$$;
