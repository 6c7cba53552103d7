import { dateTime, duration } from "@/lib/format";
import type { CronRun } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";

export function RunsTable({ runs, filtered }: { runs: CronRun[]; filtered: boolean }) {
  if (runs.length === 0) {
    return (
      <EmptyState title={filtered ? "No runs match these filters" : "No runs recorded yet"} testId="runs-empty">
        {filtered ? "Clear a filter to see more." : "Runs appear as jobs fire; use “Run now” to start one."}
      </EmptyState>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="cron-runs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Scheduled</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Replica</th>
            <th scope="col">Fencing token</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-testid="run-row" data-run-id={run.id} data-job={run.job} data-status={run.status}>
              <td>{run.job}</td>
              <td>
                <span className={`status status-${run.status}`}>{run.status}</span>
                {run.error && <div className="error-text small">{run.error}</div>}
              </td>
              <td>{dateTime(run.scheduledAt)}</td>
              <td>{dateTime(run.startedAt)}</td>
              <td>{duration(run.durationMs)}</td>
              <td className="mono">{run.replica ?? "–"}</td>
              <td className="mono">{run.fencingToken ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
