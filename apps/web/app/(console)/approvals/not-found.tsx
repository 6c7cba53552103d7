import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function ApprovalsNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such page">
        <Link href="/approvals">Back to the approvals</Link>
      </EmptyState>
    </div>
  );
}
