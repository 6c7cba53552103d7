import type { Schedule } from "../db/index.js";

/** A schedule with the name of its pool, as every reader sees it. */
export type ScheduleRecord = Schedule & { poolName: string };

/** Why a run exists: its fire time came (`schedule`), came while no replica ran but within the catch-up window (`catch_up`), a person asked (`manual`), or a backfill (`backfill`). */
export type RunTrigger = "schedule" | "catch_up" | "manual" | "backfill";

export const SCHEDULED_TRIGGERS: readonly RunTrigger[] = ["schedule", "catch_up"];

/** Who acts: the replica, and the dispatch job's fencing token when the cron dispatcher does (null for API requests and local mode). */
export interface Actor {
  replicaId: string;
  fencingToken: number | null;
}

export const TERMINAL_TASK_STATUSES = ["succeeded", "failed", "cancelled", "expired"] as const;
