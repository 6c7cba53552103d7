import type { CoreContext } from "../context.js";
import type { AuditEntry, Prisma } from "../db/index.js";
import { ValidationError } from "../errors.js";

export const MAX_AUDIT_PAGE = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One mutation to record. No secret and no payload: the target is an id or a name. */
export interface AuditRecord {
  actor: string;
  role: string;
  operation: string;
  target?: string | null;
  /** `ok`, or the error code the operation ended with. */
  outcome: string;
  at?: Date;
}

export interface AuditFilter {
  actor?: string | null;
  operation?: string | null;
  target?: string | null;
  outcome?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  pageInfo: { hasNextPage: boolean; startCursor: string | null; endCursor: string | null };
}

const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

export async function recordAudit(ctx: CoreContext, entry: AuditRecord): Promise<AuditEntry> {
  return ctx.prisma.auditEntry.create({
    data: {
      at: entry.at ?? ctx.now(),
      actor: clip(entry.actor, 200),
      role: clip(entry.role, 32),
      operation: clip(entry.operation, 100),
      target: entry.target == null ? null : clip(entry.target, 500),
      outcome: clip(entry.outcome, 100),
    },
  });
}

export const auditCursor = (entry: Pick<AuditEntry, "at" | "id">) => Buffer.from(`${entry.at.toISOString()}|${entry.id}`).toString("base64url");

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const date = new Date(at ?? "");
  if (!id || !UUID.test(id) || Number.isNaN(date.getTime())) throw new ValidationError("after", "after must be a cursor this log returned");
  return { at: date, id };
}

function where(filter: AuditFilter): Prisma.AuditEntryWhereInput {
  return {
    ...(filter.actor ? { actor: filter.actor } : {}),
    ...(filter.operation ? { operation: filter.operation } : {}),
    ...(filter.target ? { target: { contains: filter.target, mode: "insensitive" } } : {}),
    ...(filter.outcome ? (filter.outcome === "error" ? { outcome: { not: "ok" } } : { outcome: filter.outcome }) : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
  };
}

/** Audit entries, newest first; page forward with `after`. `outcome: "error"` matches every failure. */
export async function listAudit(ctx: CoreContext, query: { first: number; after?: string | null; filter?: AuditFilter }): Promise<AuditPage> {
  if (!Number.isInteger(query.first) || query.first < 1 || query.first > MAX_AUDIT_PAGE) {
    throw new ValidationError("first", `first must be a whole number from 1 to ${MAX_AUDIT_PAGE}`);
  }
  const after = query.after ? decodeCursor(query.after) : null;
  const rows = await ctx.prisma.auditEntry.findMany({
    where: { AND: [where(query.filter ?? {}), ...(after ? [{ OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] }] : [])] },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: query.first + 1,
  });
  const entries = rows.slice(0, query.first);
  return {
    entries,
    pageInfo: { hasNextPage: rows.length > query.first, startCursor: entries[0] ? auditCursor(entries[0]) : null, endCursor: entries.at(-1) ? auditCursor(entries.at(-1)!) : null },
  };
}

/** Deletes entries older than `retentionDays`; returns how many. */
export async function pruneAudit(ctx: CoreContext, retentionDays: number): Promise<number> {
  if (!(retentionDays > 0)) throw new RangeError(`retentionDays must be positive (got ${retentionDays})`);
  const cutoff = new Date(ctx.now().getTime() - retentionDays * 86_400_000);
  const { count } = await ctx.prisma.auditEntry.deleteMany({ where: { at: { lt: cutoff } } });
  return count;
}
