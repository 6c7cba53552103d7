import type { CoreContext } from "../context.js";
import type { Prisma, Task, TaskStatus } from "../db/index.js";
import { ValidationError } from "../errors.js";
import { ALL_STATUSES, isTaskStatus } from "./lifecycle.js";

export const MAX_TASK_PAGE = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TaskFilter {
  /** Pool name. */
  pool?: string | null;
  status?: readonly string[] | null;
  type?: string | null;
  pod?: string | null;
  submittedAfter?: Date | null;
  submittedBefore?: Date | null;
  /** A task id, or (part of) an idempotency key. */
  search?: string | null;
}

export interface TaskPageQuery {
  filter?: TaskFilter;
  /** Page forward: up to `first` tasks after the `after` cursor. */
  first?: number | null;
  after?: string | null;
  /** Page backward: up to `last` tasks before the `before` cursor. */
  last?: number | null;
  before?: string | null;
}

export interface TaskPage {
  tasks: Task[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** Tasks are listed newest submission first; ties (same millisecond) by id. */
export const taskCursor = (task: Pick<Task, "createdAt" | "id">) => Buffer.from(`${task.createdAt.toISOString()}|${task.id}`).toString("base64url");

function decodeCursor(field: string, cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) throw new ValidationError(field, `${field} must be a cursor this list returned`);
  return { createdAt, id };
}

function pageSize(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TASK_PAGE) throw new ValidationError(field, `${field} must be a whole number from 1 to ${MAX_TASK_PAGE}`);
  return value;
}

/** The filter without its status part (counts per status use it). */
function baseWhere(filter: TaskFilter): Prisma.TaskWhereInput {
  const search = filter.search?.trim();
  if (search && search.length > 128) throw new ValidationError("search", "search must be at most 128 characters");
  const submitted = filter.submittedAfter || filter.submittedBefore;
  return {
    ...(filter.pool ? { pool: { name: filter.pool } } : {}),
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.pod ? { podName: filter.pod } : {}),
    ...(submitted ? { createdAt: { ...(filter.submittedAfter ? { gte: filter.submittedAfter } : {}), ...(filter.submittedBefore ? { lt: filter.submittedBefore } : {}) } } : {}),
    ...(search
      ? { OR: [...(UUID.test(search) ? [{ id: search.toLowerCase() }] : []), { idempotencyKey: { contains: search, mode: "insensitive" as const } }] }
      : {}),
  };
}

function statuses(filter: TaskFilter): TaskStatus[] | undefined {
  if (!filter.status || filter.status.length === 0) return undefined;
  const valid = filter.status.filter(isTaskStatus);
  if (valid.length !== filter.status.length) throw new ValidationError("status", `status must be one of ${ALL_STATUSES.join(", ")}`);
  return valid;
}

/**
 * One page of tasks across pools, newest submission first, with cursors that stay valid while
 * tasks are added: every task is reachable by paging on.
 */
export async function listTaskPage(ctx: CoreContext, query: TaskPageQuery): Promise<TaskPage> {
  const backward = query.last != null || query.before != null;
  if (backward && (query.first != null || query.after != null)) throw new ValidationError("last", "page with first/after or with last/before, not both");
  const size = backward ? pageSize("last", query.last ?? 50) : pageSize("first", query.first ?? 50);
  const cursor = backward ? (query.before ? decodeCursor("before", query.before) : null) : query.after ? decodeCursor("after", query.after) : null;
  const filter = query.filter ?? {};
  const status = statuses(filter);
  const cmp = backward ? "gt" : "lt";
  const rows = await ctx.prisma.task.findMany({
    where: {
      AND: [
        baseWhere(filter),
        ...(status ? [{ status: { in: status } }] : []),
        ...(cursor ? [{ OR: [{ createdAt: { [cmp]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [cmp]: cursor.id } }] }] : []),
      ],
    },
    orderBy: backward ? [{ createdAt: "asc" }, { id: "asc" }] : [{ createdAt: "desc" }, { id: "desc" }],
    take: size + 1,
  });
  const more = rows.length > size;
  const tasks = rows.slice(0, size);
  if (backward) tasks.reverse();
  return {
    tasks,
    pageInfo: {
      hasNextPage: backward ? cursor !== null : more,
      hasPreviousPage: backward ? more : cursor !== null,
      startCursor: tasks[0] ? taskCursor(tasks[0]) : null,
      endCursor: tasks.at(-1) ? taskCursor(tasks.at(-1)!) : null,
    },
  };
}

/** How many tasks match the filter (its status part aside), per status; every status is present. */
export async function countTasksByStatus(ctx: CoreContext, filter: TaskFilter = {}): Promise<Record<TaskStatus, number>> {
  const groups = await ctx.prisma.task.groupBy({ by: ["status"], where: baseWhere(filter), _count: { _all: true } });
  const counts = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const g of groups) counts[g.status] = g._count._all;
  return counts;
}

/** Every plan waiting for approval, across pools, the oldest first (bounded). */
export async function listApprovals(ctx: CoreContext, first = 100): Promise<Task[]> {
  return ctx.prisma.task.findMany({
    where: { status: "apply_pending" },
    orderBy: [{ planReadyAt: "asc" }, { createdAt: "asc" }, { id: "asc" }],
    take: pageSize("first", first),
  });
}
