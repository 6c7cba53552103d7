import Link from "next/link";
import { JobsTable } from "../cron/jobs-table";

/** Berth's own jobs (code-defined, some every few seconds), collapsed out of the way of user schedules. */
export function SystemJobs({ operator }: { operator: boolean }) {
  return (
    <details className="card" data-testid="system-jobs">
      <summary>
        <strong>System jobs</strong> <span className="muted small">(Berth&apos;s built-in cron jobs; their run history is on the <Link href="/cron">Cron</Link> page)</span>
      </summary>
      <JobsTable operator={operator} />
    </details>
  );
}
