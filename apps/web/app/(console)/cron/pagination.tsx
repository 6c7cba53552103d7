import Link from "next/link";

interface Props {
  page: number;
  pageSize: number;
  total: number;
  /** The current query, without the page. */
  query: Record<string, string>;
  pathname: string;
}

export function Pagination({ page, pageSize, total, query, pathname }: Props) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const href = (p: number) => {
    const params = new URLSearchParams(query);
    if (p > 1) params.set("page", String(p));
    const s = params.toString();
    return s ? `${pathname}?${s}` : pathname;
  };
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(page * pageSize, total);
  return (
    <nav className="pagination" aria-label="Pages">
      <span className="muted small" data-testid="page-summary">
        {first}–{last} of {total}
      </span>
      {page > 1 ? (
        <Link href={href(page - 1)} className="button button-small" rel="prev">
          ← Newer
        </Link>
      ) : (
        <span className="button button-small" aria-disabled="true">
          ← Newer
        </span>
      )}
      <span className="small">
        Page {page} of {pages}
      </span>
      {page < pages ? (
        <Link href={href(page + 1)} className="button button-small" rel="next">
          Older →
        </Link>
      ) : (
        <span className="button button-small" aria-disabled="true">
          Older →
        </span>
      )}
    </nav>
  );
}
