import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function TaskNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such task" testId="task-not-found">
        Its pool may have been deleted, or the link is wrong. <Link href="/pools">See the pools</Link>.
      </EmptyState>
    </div>
  );
}
