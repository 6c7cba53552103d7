import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function AuditlogNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such page">
        <Link href="/audit">Back to the audit log</Link>
      </EmptyState>
    </div>
  );
}
