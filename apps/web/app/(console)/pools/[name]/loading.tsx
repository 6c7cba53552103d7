import { CardsSkeleton, TableSkeleton } from "@/components/skeleton";

export default function Loading() {
  return (
    <div className="page" aria-busy="true">
      <span className="skeleton skeleton-heading" />
      <CardsSkeleton cards={1} />
      <TableSkeleton rows={4} />
    </div>
  );
}
