import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function PoolNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such pool" testId="pool-not-found">
        It may have been deleted, or the name is misspelt. <Link href="/pools">See all pools</Link>.
      </EmptyState>
    </div>
  );
}
