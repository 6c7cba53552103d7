import Link from "next/link";
import type { ScheduleRunView } from "./queries";
import { inZone, taskHref } from "./zone-time";

/** A run in a few words: what happened to the fire time, the task it submitted and how that ended. */
export function RunStatus({ run, timeZone }: { run: ScheduleRunView; timeZone: string }) {
  return (
    <div data-testid="run-status" data-status={run.status}>
      <span className={`status status-${run.status}`}>{run.status}</span>
      {run.outcome && <span className={`status status-${run.outcome}`}>{run.outcome}</span>}
      <div className="muted small">{inZone(run.fireAt, timeZone)}</div>
      {run.task && (
        <Link href={taskHref(run.task)} className="small mono" data-testid="run-task-link" data-task-id={run.task.id}>
          task {run.task.id.slice(0, 8)}… ({run.task.status})
        </Link>
      )}
    </div>
  );
}
