export function SkeletonLines({ lines = 3 }: { lines?: number }) {
  return (
    <div className="skeleton-block" aria-hidden="true">
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className="skeleton skeleton-line" style={{ width: `${90 - ((i * 17) % 40)}%` }} />
      ))}
    </div>
  );
}

export function PageSkeleton({ title, cards = 3 }: { title: string; cards?: number }) {
  return (
    <div className="page" aria-busy="true" aria-live="polite">
      <h1 className="page-title">{title}</h1>
      <p className="sr-only">Loading {title.toLowerCase()}…</p>
      <div className="grid-cards">
        {Array.from({ length: cards }, (_, i) => (
          <div key={i} className="card">
            <span className="skeleton skeleton-heading" />
            <SkeletonLines />
          </div>
        ))}
      </div>
    </div>
  );
}

export function TableSkeleton({ rows = 5 }: { rows?: number }) {
  return (
    <div className="card" aria-hidden="true">
      {Array.from({ length: rows }, (_, i) => (
        <span key={i} className="skeleton skeleton-row" />
      ))}
    </div>
  );
}

export function CardsSkeleton({ cards = 3 }: { cards?: number }) {
  return (
    <div className="grid-cards" aria-hidden="true">
      {Array.from({ length: cards }, (_, i) => (
        <div key={i} className="card">
          <span className="skeleton skeleton-heading" />
          <SkeletonLines />
        </div>
      ))}
    </div>
  );
}
