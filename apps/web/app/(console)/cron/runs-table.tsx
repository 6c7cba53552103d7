import { duration } from "@/lib/format";
import type { CronRun } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";
import { Time } from "@/components/time";

export function RunsTable({ runs, filtered }: { runs: CronRun[]; filtered: boolean }) {
  if (runs.length === 0) {
    return (
      <EmptyState title={filtered ? "No runs match these filters" : "No runs recorded yet"} testId="runs-empty">
        {filtered ? "Clear a filter to see more." : "Runs appear as jobs fire; use “Run now” to start one."}
      </EmptyState>
    );
  }
  return (
    <DataTable columns={["Job", "Status", "Scheduled", "Started", "Duration", "Replica", "Fencing token"]} testId="cron-runs">
      {runs.map((run) => (
        <tr key={run.id} data-testid="run-row" data-run-id={run.id} data-job={run.job} data-status={run.status}>
          <td>{run.job}</td>
          <td>
            <span className={`status status-${run.status}`}>{run.status}</span>
            {run.error && <div className="error-text small">{run.error}</div>}
          </td>
          <td>
            <Time iso={run.scheduledAt} />
          </td>
          <td>
            <Time iso={run.startedAt} />
          </td>
          <td>{duration(run.durationMs)}</td>
          <td className="mono">{run.replica ?? "–"}</td>
          <td className="mono">{run.fencingToken ?? "–"}</td>
        </tr>
      ))}
    </DataTable>
  );
}
