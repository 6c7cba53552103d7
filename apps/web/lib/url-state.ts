// Filters and cursors that live in the URL: parsed from a page's searchParams, written back as links.

export type SearchParams = Record<string, string | string[] | undefined>;

export const TASK_STATUSES = ["pending", "running", "apply_pending", "applying", "succeeded", "failed", "cancelled", "expired"] as const;

/** The URL keys the task list owns; others (another section's state) are kept as they are. */
export const TASK_KEYS = ["pool", "status", "type", "pod", "from", "to", "q", "after", "before"] as const;

export const one = (value: string | string[] | undefined): string | undefined => {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  return v ? v : undefined;
};

/** A `datetime-local` value (read as UTC) or an ISO time; undefined when it is neither. */
export function utcTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const withZone = /[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`;
  const t = new Date(withZone);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export interface TaskQuery {
  filter: { pool?: string; status?: string[]; type?: string; pod?: string; submittedAfter?: string; submittedBefore?: string; search?: string };
  after?: string;
  before?: string;
}

/** What the task list asks the API for, from the URL; `pool` fixes the pool (the pool page). */
export function readTaskQuery(params: SearchParams, pool?: string): TaskQuery {
  const status = (one(params.status) ?? "").split(",").filter((s) => (TASK_STATUSES as readonly string[]).includes(s));
  const filter: TaskQuery["filter"] = {
    pool: pool ?? one(params.pool),
    status: status.length ? status : undefined,
    type: one(params.type),
    pod: one(params.pod),
    submittedAfter: utcTime(one(params.from)),
    submittedBefore: utcTime(one(params.to)),
    search: one(params.q),
  };
  const before = one(params.before);
  return {
    filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as TaskQuery["filter"],
    before,
    after: before ? undefined : one(params.after),
  };
}

/** `pathname` with `params` changed by `patch` (undefined removes a key); empty values are dropped. */
export function hrefWith(pathname: string, params: SearchParams, patch: Record<string, string | undefined>): string {
  const next = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const v = one(value);
    if (v !== undefined && !(key in patch)) next.set(key, v);
  }
  for (const [key, value] of Object.entries(patch)) if (value) next.set(key, value);
  const query = next.toString();
  return query ? `${pathname}?${query}` : pathname;
}

/** The status filter with `status` added or taken out. */
export function toggleStatus(current: string | undefined, status: string): string | undefined {
  const set = new Set((current ?? "").split(",").filter(Boolean));
  if (set.has(status)) set.delete(status);
  else set.add(status);
  return set.size ? [...set].join(",") : undefined;
}
