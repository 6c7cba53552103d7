import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function TokensNotFound() {
  return (
    <div className="page">
      <EmptyState title="Only admins manage tokens">
        Sign in with an admin token to create or revoke tokens. <Link href="/pools">Back to pools</Link>
      </EmptyState>
    </div>
  );
}
