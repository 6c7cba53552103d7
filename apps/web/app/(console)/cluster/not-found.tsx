import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function ClusterNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such page">
        <Link href="/cluster">Back to the cluster</Link>
      </EmptyState>
    </div>
  );
}
