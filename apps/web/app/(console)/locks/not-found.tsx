import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function LocksNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such page">
        <Link href="/locks">Back to locks</Link>
      </EmptyState>
    </div>
  );
}
