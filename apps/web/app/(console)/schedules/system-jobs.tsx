import Link from "next/link";
import { api } from "@/lib/api";
import { dateTime, duration } from "@/lib/format";
import type { CronJob } from "@/lib/types";
import { DataTable } from "@/components/data-table";
import { describeSchedule } from "../cron/describe-schedule";
import { SYSTEM_JOBS } from "./queries";

/** Berth's own jobs (code-defined, some every few seconds), kept out of the way of user schedules. */
export async function SystemJobs() {
  const { cronJobs } = await api<{ cronJobs: CronJob[] }>(SYSTEM_JOBS);
  return (
    <details className="card" data-testid="system-jobs">
      <summary>
        <strong>System jobs</strong> <span className="muted small">({cronJobs.length} built-in cron jobs; their runs are on the <Link href="/cron">Cron</Link> page)</span>
      </summary>
      <DataTable columns={["Job", "Schedule", "Next run", "Last run"]} testId="system-jobs-table">
        {cronJobs.map((job) => (
          <tr key={job.name} data-testid="system-job-row" data-job={job.name}>
            <td>
              {job.name}
              {job.paused && <span className="badge badge-warn">paused</span>}
            </td>
            <td>
              <code>{job.schedule}</code>
              <div className="muted small">{describeSchedule(job.schedule) ?? "custom schedule"}</div>
            </td>
            <td>{job.paused ? <span className="muted">paused</span> : dateTime(job.nextRunAt)}</td>
            <td>
              {job.lastRun ? (
                <>
                  <span className={`status status-${job.lastRun.status}`}>{job.lastRun.status}</span>
                  <div className="muted small">
                    {dateTime(job.lastRun.startedAt)} · {duration(job.lastRun.durationMs)}
                  </div>
                </>
              ) : (
                <span className="muted">never run</span>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
    </details>
  );
}
