import { CardsSkeleton } from "@/components/skeleton";

export default function Loading() {
  return (
    <div className="page" aria-busy="true">
      <span className="skeleton skeleton-heading" />
      <CardsSkeleton cards={3} />
    </div>
  );
}
