import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function TasksNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such page">
        <Link href="/tasks">Back to the tasks</Link>
      </EmptyState>
    </div>
  );
}
