import { api } from "@/lib/api";
import { taskPlace } from "@/lib/format";
import { TASKS } from "@/lib/queries";
import type { Task } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";
import { Time } from "@/components/time";
import { TaskActions } from "./task-actions";

export async function TasksTable({ pool, operator }: { pool: string; operator: boolean }) {
  const { tasks } = await api<{ tasks: Task[] }>(TASKS, { pool, first: 50 });
  if (tasks.length === 0) {
    return (
      <EmptyState title="No tasks in this pool yet" testId="tasks-empty">
        {operator ? "Submit one above; it lands on an idle slot as soon as a pod is ready." : "Tasks appear here once a service submits them."}
      </EmptyState>
    );
  }
  return (
    <DataTable columns={["Task", "Type", "Status", "Pod / slot", "Created", "Finished", operator && "Actions"]} testId="tasks-table">
      {tasks.map((task) => (
        <tr key={task.id} data-testid="task-row" data-task-id={task.id} data-status={task.status}>
          <td className="mono" title={task.id}>
            {task.id.length > 12 ? `${task.id.slice(0, 8)}…` : task.id}
          </td>
          <td>{task.type}</td>
          <td>
            <span className={`status status-${task.status}`} data-testid="task-status">
              {task.status}
            </span>
            {task.error && <div className="error-text small">{task.error}</div>}
            {task.output != null && (
              <details className="output">
                <summary className="small">{task.status === "apply_pending" ? "Plan to approve" : "Output"}</summary>
                <pre>{JSON.stringify(task.output, null, 2)}</pre>
              </details>
            )}
          </td>
          <td>{taskPlace(task)}</td>
          <td className="small">
            <Time iso={task.createdAt} />
          </td>
          <td className="small">
            <Time iso={task.finishedAt} />
          </td>
          {operator && (
            <td>
              <TaskActions id={task.id} status={task.status} />
            </td>
          )}
        </tr>
      ))}
    </DataTable>
  );
}
