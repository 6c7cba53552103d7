import Link from "next/link";
import { api } from "@/lib/api";
import { DataTable } from "@/components/data-table";
import { EmptyState } from "@/components/empty-state";
import { describeSchedule } from "../cron/describe-schedule";
import { SCHEDULES, type ScheduleView } from "./queries";
import { RunStatus } from "./run-status";
import { ScheduleActions } from "./schedule-actions";
import { inZone } from "./zone-time";

export async function SchedulesTable({ operator }: { operator: boolean }) {
  const { schedules } = await api<{ schedules: ScheduleView[] }>(SCHEDULES);
  if (schedules.length === 0) {
    return (
      <EmptyState title="No schedules yet" testId="schedules-empty">
        {operator ? "Create one above: it submits a task to a pool at each fire time." : "Operators create schedules here."}
      </EmptyState>
    );
  }
  return (
    <DataTable columns={["Schedule", "When", "Task", "Next fire times", "Last run", operator && "Actions"]} testId="schedules-table">
      {schedules.map((s) => (
        <tr key={s.id} data-testid="schedule-row" data-schedule={s.name} data-paused={s.paused}>
          <td>
            <Link href={`/schedules/${encodeURIComponent(s.name)}`}>
              <strong>{s.name}</strong>
            </Link>
            {s.paused && (
              <span className="badge badge-warn" data-testid="paused-badge">
                paused
              </span>
            )}
            {s.paused && (
              <div className="muted small" data-testid="pause-note-shown">
                {s.pausedBy ? `by ${s.pausedBy}` : ""}
                {s.pauseNote ? `: ${s.pauseNote}` : ""}
              </div>
            )}
          </td>
          <td>
            <code>{s.cron}</code>
            <div className="muted small">
              {describeSchedule(s.cron) ?? "custom schedule"} ({s.timeZone})
            </div>
            <div className="muted small">
              {s.overlap}, catch up {s.catchupWindowSeconds} s{s.jitterSeconds ? `, jitter ≤ ${s.jitterSeconds} s` : ""}
            </div>
          </td>
          <td>
            <Link href={`/pools/${encodeURIComponent(s.pool)}`}>{s.pool}</Link> · {s.taskType}
          </td>
          <td className="small mono" data-testid="schedule-next">
            {s.nextFireTimes.length ? s.nextFireTimes.map((t) => <div key={t}>{inZone(t, s.timeZone)}</div>) : <span className="muted">none</span>}
          </td>
          <td>{s.lastRun ? <RunStatus run={s.lastRun} timeZone={s.timeZone} /> : <span className="muted">never fired</span>}</td>
          {operator && (
            <td>
              <ScheduleActions name={s.name} paused={s.paused} />
            </td>
          )}
        </tr>
      ))}
    </DataTable>
  );
}
