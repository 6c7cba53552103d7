import Link from "next/link";
import { one, TASK_KEYS, TASK_STATUSES, type SearchParams } from "@/lib/url-state";

interface Props {
  pathname: string;
  params: SearchParams;
  /** Pool names to choose from; absent on a pool's own page (the pool is fixed). */
  pools?: string[];
}

/**
 * A plain GET form: applying it loads the page with the filters in the URL (and no cursor), so a
 * filtered list can be shared, reloaded and used without JavaScript.
 */
export function TaskFilters({ pathname, params, pools }: Props) {
  const status = one(params.status) ?? "";
  const kept = Object.entries(params).filter(([key]) => !(TASK_KEYS as readonly string[]).includes(key));
  const filtered = TASK_KEYS.some((key) => key !== "after" && key !== "before" && one(params[key]));
  return (
    <form method="get" action={pathname} className="task-filters" role="search" aria-label="Filter tasks" data-testid="task-filters">
      {kept.map(([key, value]) => (one(value) ? <input key={key} type="hidden" name={key} value={one(value)} /> : null))}
      <label className="field field-search">
        <span>Search</span>
        <input name="q" type="search" defaultValue={one(params.q) ?? ""} placeholder="Task id or idempotency key" data-testid="task-search" />
      </label>
      {pools && (
        <label className="field">
          <span>Pool</span>
          <select name="pool" defaultValue={one(params.pool) ?? ""} data-testid="filter-pool">
            <option value="">All pools</option>
            {pools.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="field">
        <span>Status</span>
        <select name="status" defaultValue={status} data-testid="filter-status">
          <option value="">Any status</option>
          {status.includes(",") && <option value={status}>{status.split(",").join(" or ")}</option>}
          {TASK_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Type</span>
        <input name="type" defaultValue={one(params.type) ?? ""} placeholder="any" data-testid="filter-type" />
      </label>
      <label className="field">
        <span>Pod</span>
        <input name="pod" defaultValue={one(params.pod) ?? ""} placeholder="any" data-testid="filter-pod" />
      </label>
      <label className="field">
        <span>Submitted from (UTC)</span>
        <input name="from" type="datetime-local" step="1" defaultValue={one(params.from) ?? ""} data-testid="filter-from" />
      </label>
      <label className="field">
        <span>Submitted before (UTC)</span>
        <input name="to" type="datetime-local" step="1" defaultValue={one(params.to) ?? ""} data-testid="filter-to" />
      </label>
      <div className="task-filters-actions">
        <button type="submit" className="button button-primary button-small" data-testid="apply-filters">
          Apply
        </button>
        {filtered && (
          <Link href={pathname} className="button button-small" data-testid="clear-filters">
            Clear
          </Link>
        )}
      </div>
    </form>
  );
}
