import Link from "next/link";
import { hrefWith, one, toggleStatus, type SearchParams } from "@/lib/url-state";

interface Props {
  pathname: string;
  params: SearchParams;
  counts: { status: string; count: number }[];
}

/** How many tasks match per status; each is a link that adds or removes that status from the filter. */
export function StatusCounts({ pathname, params, counts }: Props) {
  const selected = new Set((one(params.status) ?? "").split(",").filter(Boolean));
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  return (
    <nav className="status-counts" aria-label="Tasks per status" data-testid="status-counts">
      <Link
        href={hrefWith(pathname, params, { status: undefined, after: undefined, before: undefined })}
        className="count-chip"
        aria-current={selected.size === 0 ? "true" : undefined}
        data-testid="count-all"
      >
        all <strong>{total}</strong>
      </Link>
      {counts.map(({ status, count }) => (
        <Link
          key={status}
          href={hrefWith(pathname, params, { status: toggleStatus(one(params.status), status), after: undefined, before: undefined })}
          className={`count-chip ${count === 0 ? "count-zero" : ""}`}
          aria-current={selected.has(status) ? "true" : undefined}
          data-testid={`count-${status}`}
          data-count={count}
        >
          <span className={`status status-${status}`}>{status}</span> <strong>{count}</strong>
        </Link>
      ))}
    </nav>
  );
}
