import Link from "next/link";
import { EmptyState } from "@/components/empty-state";

export default function CronNotFound() {
  return (
    <div className="page">
      <EmptyState title="No such cron page">
        <Link href="/cron">Back to cron jobs</Link>
      </EmptyState>
    </div>
  );
}
