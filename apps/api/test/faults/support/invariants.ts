import pg from "pg";
import type { WorkloadResult } from "./workload.js";

/** Reads the test database directly: what the API processes left behind, whatever they say. */
export async function withDb<T>(url: string, fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url });
  // A test that terminates the database's connections may end this one too: that fails the
  // current query, and must not crash the test process as an unhandled 'error' event.
  db.on("error", () => {});
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

const ENDED = `('succeeded', 'failed', 'cancelled', 'expired', 'pending')`;
const HOLDING = `('running', 'apply_pending', 'applying')`;

/**
 * Every way a slot can leak or a task can lose its slot, each as the offending rows (all empty
 * when the slot table is sound). One statement each, so each sees one consistent snapshot.
 */
const SLOT_CHECKS = {
  slotsHeldByTasksNotHoldingOne: `SELECT s.id, t.id AS task, t.status FROM "Slot" s JOIN "Task" t ON t.id = s."taskId" WHERE t.status IN ${ENDED}`,
  busySlotsWithoutTask: `SELECT id, state FROM "Slot" WHERE state <> 'idle' AND "taskId" IS NULL`,
  idleSlotsWithTask: `SELECT id, "taskId" FROM "Slot" WHERE state = 'idle' AND "taskId" IS NOT NULL`,
  liveTasksWithoutSlot: `SELECT t.id, t.status FROM "Task" t WHERE t.status IN ${HOLDING} AND NOT EXISTS (SELECT 1 FROM "Slot" s WHERE s."taskId" = t.id)`,
  slotStateDisagreesWithTask: `SELECT s.id, s.state, t.status FROM "Slot" s JOIN "Task" t ON t.id = s."taskId"
    WHERE (t.status IN ('running', 'applying') AND s.state <> 'running') OR (t.status = 'apply_pending' AND s.state <> 'reserved')`,
  openAssignmentsOfTasksNotHoldingOne: `SELECT a.id, t.status FROM "SlotAssignment" a JOIN "Task" t ON t.id = a."taskId" WHERE a."releasedAt" IS NULL AND t.status NOT IN ${HOLDING}`,
  tasksWithTwoOpenAssignments: `SELECT "taskId", count(*)::int AS n FROM "SlotAssignment" WHERE "releasedAt" IS NULL GROUP BY 1 HAVING count(*) > 1`,
  slotsOnGonePods: `SELECT s.id, p.phase FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE s.state <> 'idle' AND p.phase IN ('Lost', 'Terminating')`,
} as const;

export type SlotViolations = Record<keyof typeof SLOT_CHECKS, unknown[]>;

export async function slotViolations(db: pg.Client): Promise<SlotViolations> {
  const out: Partial<SlotViolations> = {};
  for (const [name, sql] of Object.entries(SLOT_CHECKS)) out[name as keyof SlotViolations] = (await db.query(sql)).rows;
  return out as SlotViolations;
}

export const NO_SLOT_VIOLATIONS: SlotViolations = Object.fromEntries(Object.keys(SLOT_CHECKS).map((k) => [k, []])) as unknown as SlotViolations;

/** (job, fire time) pairs with more than one run row; the unique index should make this impossible. */
export async function fireTimesRunTwice(db: pg.Client): Promise<unknown[]> {
  return (await db.query(`SELECT job, "scheduledAt", count(*)::int AS n FROM "CronRun" GROUP BY 1, 2 HAVING count(*) > 1`)).rows;
}

export interface CronRunRow {
  id: string;
  job: string;
  replica: string;
  status: string;
  scheduledAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  fencingToken: string | null;
  error: string | null;
}

export async function cronRuns(db: pg.Client, job: string): Promise<CronRunRow[]> {
  return (
    await db.query<CronRunRow>(`SELECT id, job, replica, status::text AS status, "scheduledAt", "startedAt", "finishedAt", "fencingToken", error FROM "CronRun" WHERE job = $1 ORDER BY "scheduledAt"`, [job])
  ).rows;
}

export interface TaskAccount {
  /** Acknowledged submits with no task row. */
  lost: string[];
  /** Client references with more than one task row. */
  duplicated: string[];
  /** Task rows no client of the test submitted. */
  strays: string[];
  /** Acknowledged submits whose row has another id than the API answered. */
  mismatched: string[];
  /** Ambiguous submits that did create their task. */
  ambiguousCreated: number;
  byStatus: Record<string, number>;
  total: number;
}

/** Compares what the clients were told with the task table. */
export async function accountForTasks(db: pg.Client, pool: string, work: WorkloadResult, extraRefs: Map<string, string> = new Map()): Promise<TaskAccount> {
  const { rows } = await db.query<{ id: string; ref: string | null; status: string }>(
    `SELECT t.id, t.payload->>'ref' AS ref, t.status::text AS status FROM "Task" t JOIN "Pool" p ON p.id = t."poolId" WHERE p.name = $1`,
    [pool],
  );
  const acked = new Map([...work.acked, ...extraRefs]);
  const byRef = new Map<string, string[]>();
  for (const r of rows) if (r.ref) byRef.set(r.ref, [...(byRef.get(r.ref) ?? []), r.id]);
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return {
    lost: [...acked.keys()].filter((ref) => !byRef.has(ref)),
    duplicated: [...byRef].filter(([, ids]) => ids.length > 1).map(([ref]) => ref),
    strays: rows.filter((r) => !r.ref || !(acked.has(r.ref) || work.ambiguous.has(r.ref))).map((r) => r.id),
    mismatched: [...acked].filter(([ref, id]) => byRef.has(ref) && !byRef.get(ref)!.includes(id)).map(([ref]) => ref),
    ambiguousCreated: [...work.ambiguous].filter((ref) => byRef.has(ref)).length,
    byStatus,
    total: rows.length,
  };
}
