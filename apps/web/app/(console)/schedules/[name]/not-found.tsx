import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function ScheduleNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such schedule">
        <Link href="/schedules">Back to schedules</Link>
      </EmptyState>
    </div>
  );
}
