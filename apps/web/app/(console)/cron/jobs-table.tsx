import { api } from "@/lib/api";
import { duration } from "@/lib/format";
import { CRON_JOBS } from "@/lib/queries";
import type { CronJob } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";
import { describeSchedule } from "./describe-schedule";
import { JobActions } from "./job-actions";
import { Time } from "@/components/time";

export async function JobsTable({ operator }: { operator: boolean }) {
  const { cronJobs } = await api<{ cronJobs: CronJob[] }>(CRON_JOBS);
  if (cronJobs.length === 0) {
    return <EmptyState title="No cron jobs are defined">Jobs are declared in code with defineCronJob; they appear here once the API starts them.</EmptyState>;
  }
  return (
    <DataTable columns={["Job", "Schedule", "Next run", "Last run", operator && "Actions"]} testId="cron-jobs">
      {cronJobs.map((job) => (
        <tr key={job.name} data-testid="cron-job-row" data-job={job.name} data-paused={job.paused}>
          <td>
            <strong>{job.name}</strong>
            {job.paused && <span className="badge badge-warn">paused</span>}
            {job.overlap && <div className="muted small">overlap: {job.overlap}</div>}
          </td>
          <td>
            <code>{job.schedule}</code>
            <div className="muted small">
              {describeSchedule(job.schedule) ?? "custom schedule"}
              {job.timeZone ? ` (${job.timeZone})` : ""}
            </div>
          </td>
          <td>{job.paused ? <span className="muted">paused</span> : <Time iso={job.nextRunAt} />}</td>
          <td>
            {job.lastRun ? (
              <>
                <span className={`status status-${job.lastRun.status}`}>{job.lastRun.status}</span>
                <div className="muted small">
                  <Time iso={job.lastRun.startedAt} /> · {duration(job.lastRun.durationMs)}
                  {job.lastRun.replica ? ` · ${job.lastRun.replica}` : ""}
                </div>
              </>
            ) : (
              <span className="muted">never run</span>
            )}
          </td>
          {operator && (
            <td>
              <JobActions name={job.name} paused={job.paused} />
            </td>
          )}
        </tr>
      ))}
    </DataTable>
  );
}
