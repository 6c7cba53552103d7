import Link from "next/link";
import { api } from "@/lib/api";
import { duration } from "@/lib/format";
import { DataTable } from "@/components/data-table";
import { EmptyState } from "@/components/empty-state";
import { SCHEDULE_RUNS, type ScheduleRunView } from "./queries";
import { inZone, taskHref } from "./zone-time";

const PAGE_SIZE = 25;

interface Page {
  scheduleRuns: { edges: { cursor: string; node: ScheduleRunView }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** A schedule's runs, newest first, a page at a time; `after` (the URL's) is the cursor of the page before. */
export async function RunsTable({ schedule, timeZone, after }: { schedule: string; timeZone: string; after?: string }) {
  const { scheduleRuns } = await api<Page>(SCHEDULE_RUNS, { schedule, first: PAGE_SIZE, after: after ?? null });
  const runs = scheduleRuns.edges.map((e) => e.node);
  const base = `/schedules/${encodeURIComponent(schedule)}`;
  if (runs.length === 0) {
    return (
      <EmptyState title={after ? "No older runs" : "No runs yet"} testId="schedule-runs-empty">
        {after ? <Link href={base}>Back to the newest</Link> : "Runs appear at the next fire time; “Run now” starts one at once."}
      </EmptyState>
    );
  }
  const footer = (
    <nav className="pagination" aria-label="Pages">
      {after && (
        <Link href={base} className="button button-small">
          ← Newest
        </Link>
      )}
      {scheduleRuns.pageInfo.hasNextPage && scheduleRuns.pageInfo.endCursor ? (
        <Link href={`${base}?after=${encodeURIComponent(scheduleRuns.pageInfo.endCursor)}`} className="button button-small" rel="next" data-testid="older-runs">
          Older →
        </Link>
      ) : (
        <span className="muted small">End of the history</span>
      )}
    </nav>
  );
  return (
    <DataTable columns={["Fire time", "Trigger", "Status", "Task", "Submitted after", "Note"]} testId="schedule-runs" footer={footer}>
      {runs.map((run) => (
        <tr key={run.id} data-testid="schedule-run-row" data-status={run.status} data-trigger={run.trigger}>
          <td className="small mono">
            {inZone(run.fireAt, timeZone)}
            {run.dueAt !== run.fireAt && <div className="muted">due {inZone(run.dueAt, timeZone)}</div>}
          </td>
          <td>{run.trigger}</td>
          <td>
            <span className={`status status-${run.status}`}>{run.status}</span>
            {run.outcome && <span className={`status status-${run.outcome}`}>{run.outcome}</span>}
          </td>
          <td>
            {run.task ? (
              <Link href={taskHref(run.task)} className="mono small" data-testid="run-task-link" data-task-id={run.task.id}>
                {run.task.id.slice(0, 8)}… ({run.task.status})
              </Link>
            ) : (
              <span className="muted">–</span>
            )}
          </td>
          <td>{duration(run.submitDelayMs)}</td>
          <td className="small">{run.note ?? ""}</td>
        </tr>
      ))}
    </DataTable>
  );
}
