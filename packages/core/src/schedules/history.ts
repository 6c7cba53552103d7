import type { CoreContext } from "../context.js";
import type { ScheduleRun } from "../db/index.js";
import { InvalidScheduleError } from "./errors.js";
import { getSchedule } from "./manage.js";

const MAX_PAGE = 200;

export interface ScheduleRunPage {
  runs: ScheduleRun[];
  pageInfo: { hasNextPage: boolean; startCursor: string | null; endCursor: string | null };
}

export const runCursor = (run: Pick<ScheduleRun, "fireAt" | "id">) => Buffer.from(`${run.fireAt.toISOString()}|${run.id}`).toString("base64url");

function decodeCursor(cursor: string): { fireAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const fireAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(fireAt.getTime())) throw new InvalidScheduleError("after", "after must be a cursor this history returned");
  return { fireAt, id };
}

/** A schedule's runs, newest fire time first, in pages; a cursor keeps its place when older rows are pruned. */
export async function listScheduleRuns(ctx: CoreContext, query: { schedule: string; first: number; after?: string | null }): Promise<ScheduleRunPage> {
  if (!Number.isInteger(query.first) || query.first < 1 || query.first > MAX_PAGE) throw new InvalidScheduleError("first", `first must be a whole number from 1 to ${MAX_PAGE}`);
  const after = query.after ? decodeCursor(query.after) : null;
  const schedule = await getSchedule(ctx, query.schedule);
  const rows = await ctx.prisma.scheduleRun.findMany({
    where: { scheduleId: schedule.id, ...(after && { OR: [{ fireAt: { lt: after.fireAt } }, { fireAt: after.fireAt, id: { lt: after.id } }] }) },
    orderBy: [{ fireAt: "desc" }, { id: "desc" }],
    take: query.first + 1,
  });
  const runs = rows.slice(0, query.first);
  return {
    runs,
    pageInfo: { hasNextPage: rows.length > query.first, startCursor: runs[0] ? runCursor(runs[0]) : null, endCursor: runs.at(-1) ? runCursor(runs.at(-1)!) : null },
  };
}

/** The latest run of each schedule, by fire time (one query for any number of schedules). */
export async function latestRuns(ctx: CoreContext, scheduleIds: readonly string[]): Promise<Map<string, ScheduleRun>> {
  if (scheduleIds.length === 0) return new Map();
  const rows = await ctx.prisma.$queryRaw<ScheduleRun[]>`
    SELECT DISTINCT ON ("scheduleId") * FROM "ScheduleRun"
    WHERE "scheduleId" = ANY(${[...scheduleIds]}::uuid[])
    ORDER BY "scheduleId", "fireAt" DESC, id DESC`;
  return new Map(rows.map((r) => [r.scheduleId, r]));
}

/**
 * Keeps the newest `keep` runs of each schedule and deletes older ones. Runs still open
 * (pending, buffered, or submitted with no outcome yet) stay whatever their age.
 */
export async function pruneScheduleRuns(ctx: CoreContext, keep: number): Promise<number> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of runs, at least 1 (got ${keep})`);
  return ctx.prisma.$executeRaw`
    DELETE FROM "ScheduleRun" WHERE id IN (
      SELECT id FROM (
        SELECT id, status, outcome, row_number() OVER (PARTITION BY "scheduleId" ORDER BY "fireAt" DESC, id DESC) AS n
        FROM "ScheduleRun"
      ) ranked
      WHERE n > ${keep} AND status NOT IN ('pending', 'buffered') AND NOT (status = 'submitted' AND outcome IS NULL)
    )`;
}
