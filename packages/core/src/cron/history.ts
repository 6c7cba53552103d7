import type { CronRun, CronRunStatus, PrismaClient } from "../db/index.js";
import { InvalidCronQueryError } from "./errors.js";

const STATUSES: readonly CronRunStatus[] = ["running", "succeeded", "failed", "missed"];
const MAX_PAGE = 500;

export interface CronRunQuery {
  job?: string;
  status?: CronRunStatus;
  /** Page size, 1 to 500. */
  first: number;
  /** `endCursor` of the previous page. */
  after?: string | null;
}

export interface CronRunPage {
  runs: CronRun[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const encodeCursor = (run: Pick<CronRun, "scheduledAt" | "id">) => Buffer.from(`${run.scheduledAt.toISOString()}|${run.id}`).toString("base64url");

function decodeCursor(cursor: string): { scheduledAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const scheduledAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(scheduledAt.getTime())) throw new InvalidCronQueryError("after", cursor, "not a cursor this query returned");
  return { scheduledAt, id };
}

/** Run history, newest fire time first, in pages; the cursor keeps its place when older rows are pruned. */
export async function listCronRuns(prisma: PrismaClient, query: CronRunQuery): Promise<CronRunPage> {
  if (!Number.isInteger(query.first) || query.first < 1 || query.first > MAX_PAGE) throw new InvalidCronQueryError("first", query.first, `a whole number from 1 to ${MAX_PAGE}`);
  if (query.status !== undefined && !STATUSES.includes(query.status)) throw new InvalidCronQueryError("status", query.status, `one of ${STATUSES.join(", ")}`);
  const after = query.after ? decodeCursor(query.after) : null;
  const rows = await prisma.cronRun.findMany({
    where: {
      ...(query.job !== undefined && { job: query.job }),
      ...(query.status !== undefined && { status: query.status }),
      ...(after && { OR: [{ scheduledAt: { lt: after.scheduledAt } }, { scheduledAt: after.scheduledAt, id: { lt: after.id } }] }),
    },
    orderBy: [{ scheduledAt: "desc" }, { id: "desc" }],
    take: query.first + 1,
  });
  const runs = rows.slice(0, query.first);
  const last = runs.at(-1);
  return { runs, pageInfo: { hasNextPage: rows.length > query.first, endCursor: last ? encodeCursor(last) : null } };
}

/**
 * Keeps the newest `keep` finished runs of each job (by fire time) and deletes older ones;
 * `perJob` overrides `keep` for the jobs it names. Running rows stay. Returns how many went.
 */
export async function pruneCronHistory(prisma: PrismaClient, keep: number, perJob: Record<string, number> = {}): Promise<number> {
  const checkKeep = (n: number) => {
    if (!Number.isInteger(n) || n < 1) throw new InvalidCronQueryError("keep", n, "a whole number of runs per job, at least 1");
  };
  checkKeep(keep);
  Object.values(perJob).forEach(checkKeep);
  const overrides = JSON.stringify(Object.entries(perJob).map(([job, n]) => ({ job, keep: n })));
  return prisma.$executeRaw`
    DELETE FROM "CronRun" WHERE id IN (
      SELECT ranked.id FROM (
        SELECT id, job, row_number() OVER (PARTITION BY job ORDER BY "scheduledAt" DESC, id DESC) AS n
        FROM "CronRun" WHERE status <> 'running'
      ) ranked
      LEFT JOIN jsonb_to_recordset(${overrides}::jsonb) AS o(job text, keep int) ON o.job = ranked.job
      WHERE ranked.n > COALESCE(o.keep, ${keep})
    )`;
}
