import type { CronRun, CronRunStatus, PrismaClient } from "../db/index.js";
import { InvalidCronQueryError } from "./errors.js";

const STATUSES: readonly string[] = ["running", "succeeded", "failed", "missed"];

export interface CronRunFilter {
  job?: string | null;
  status?: string | null;
}

function where(filter: CronRunFilter) {
  if (filter.status && !STATUSES.includes(filter.status)) throw new InvalidCronQueryError("status", filter.status, `one of ${STATUSES.join(", ")}`);
  return { ...(filter.job ? { job: filter.job } : {}), ...(filter.status ? { status: filter.status as CronRunStatus } : {}) };
}

/** Numbered pages of the run history (newest fire time first), for tables that show page N of M. */
export async function cronRunsPage(prisma: PrismaClient, filter: CronRunFilter & { first: number; offset: number }): Promise<CronRun[]> {
  if (!Number.isInteger(filter.first) || filter.first < 1 || filter.first > 500) throw new InvalidCronQueryError("first", filter.first, "a whole number from 1 to 500");
  if (!Number.isInteger(filter.offset) || filter.offset < 0 || filter.offset > 1_000_000) throw new InvalidCronQueryError("offset", filter.offset, "a whole number from 0");
  return prisma.cronRun.findMany({ where: where(filter), orderBy: [{ scheduledAt: "desc" }, { id: "desc" }], skip: filter.offset, take: filter.first });
}

export async function countCronRuns(prisma: PrismaClient, filter: CronRunFilter): Promise<number> {
  return prisma.cronRun.count({ where: where(filter) });
}
