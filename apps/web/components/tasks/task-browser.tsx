import Link from "next/link";
import { api } from "@/lib/api";
import { dateTime } from "@/lib/format";
import { POOLS, TASKS_CONNECTION } from "@/lib/queries";
import type { TaskConnection, TaskRow } from "@/lib/types";
import { hrefWith, readTaskQuery, type SearchParams } from "@/lib/url-state";
import { CursorPager } from "@/components/cursor-pager";
import { DataTable } from "@/components/data-table";
import { EmptyState } from "@/components/empty-state";
import { StatusCounts } from "./status-counts";
import { TaskActions } from "./task-actions";
import { TaskFilters } from "./task-filters";

export const TASK_PAGE_SIZE = 50;

interface Props {
  /** The page the list is on; filters and cursors go into its URL. */
  pathname: string;
  params: SearchParams;
  operator: boolean;
  /** Fixes the pool (a pool's own page): no pool filter, no pool column. */
  pool?: string;
}

const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

function Row({ task, operator, showPool }: { task: TaskRow; operator: boolean; showPool: boolean }) {
  const pod = task.pod?.name ?? task.podName;
  return (
    <tr data-testid="task-row" data-task-id={task.id} data-status={task.status}>
      <td className="mono">
        <Link href={`/tasks/${task.id}`} title={task.id} data-testid="task-link">
          {shortId(task.id)}
        </Link>
        {task.idempotencyKey && (
          <div className="muted small key" title="Idempotency key">
            {task.idempotencyKey}
          </div>
        )}
      </td>
      {showPool && (
        <td>
          <Link href={`/pools/${encodeURIComponent(task.pool)}`}>{task.pool}</Link>
        </td>
      )}
      <td>{task.type}</td>
      <td>
        <span className={`status status-${task.status}`} data-testid="task-status">
          {task.status}
        </span>
        {task.reviewVerdict && (
          <div className="muted small">
            {task.reviewVerdict} by {task.reviewedBy}
          </div>
        )}
        {task.error && <div className="error-text small wrap">{task.error}</div>}
        {task.output != null && (
          <details className="output">
            <summary className="small">{task.status === "apply_pending" ? "Plan to approve" : "Output"}</summary>
            <pre>{JSON.stringify(task.output, null, 2)}</pre>
          </details>
        )}
      </td>
      <td>{pod ? `${pod}${task.slot ? ` #${task.slot.index}` : ""}` : "–"}</td>
      <td className="nowrap">{dateTime(task.createdAt)}</td>
      <td className="nowrap">{dateTime(task.finishedAt)}</td>
      {operator && (
        <td>
          <TaskActions id={task.id} status={task.status} />
        </td>
      )}
    </tr>
  );
}

/** The task list of the Tasks page and of a pool's page: filters, counts per status, cursor pages, all in the URL. */
export async function TaskBrowser({ pathname, params, operator, pool }: Props) {
  const query = readTaskQuery(params, pool);
  const page = query.before ? { last: TASK_PAGE_SIZE, before: query.before } : { first: TASK_PAGE_SIZE, after: query.after };
  const [{ tasksConnection: conn }, pools] = await Promise.all([
    api<{ tasksConnection: TaskConnection }>(TASKS_CONNECTION, { ...page, filter: query.filter }),
    pool ? Promise.resolve(undefined) : api<{ pools: { name: string }[] }>(POOLS).then((r) => r.pools.map((p) => p.name)),
  ]);
  const tasks = conn.edges.map((e) => e.node);
  const filtered = Object.keys(query.filter).some((k) => k !== "pool" || !pool);
  const { pageInfo } = conn;
  const pager = (
    <CursorPager
      label="Task pages"
      testId="tasks"
      newer={pageInfo.hasPreviousPage && pageInfo.startCursor ? hrefWith(pathname, params, { before: pageInfo.startCursor, after: undefined }) : undefined}
      newest={query.after || query.before ? hrefWith(pathname, params, { before: undefined, after: undefined }) : undefined}
      older={pageInfo.hasNextPage && pageInfo.endCursor ? hrefWith(pathname, params, { after: pageInfo.endCursor, before: undefined }) : undefined}
    />
  );
  return (
    <div className="task-browser" data-testid="task-browser">
      <TaskFilters pathname={pathname} params={params} pools={pools} />
      <StatusCounts pathname={pathname} params={params} counts={conn.countsByStatus} />
      {tasks.length === 0 ? (
        <EmptyState title={filtered ? "No task matches these filters" : "No tasks yet"} testId="tasks-empty">
          {filtered ? "Clear a filter, or search by a full task id." : operator ? "Submit one on a pool's page; it lands on an idle slot as soon as a pod is ready." : "Tasks appear here once a service submits them."}
        </EmptyState>
      ) : (
        <DataTable columns={["Task", !pool && "Pool", "Type", "Status", "Pod / slot", "Submitted", "Finished", operator && "Actions"]} testId="tasks-table" footer={pager}>
          {tasks.map((task) => (
            <Row key={task.id} task={task} operator={operator} showPool={!pool} />
          ))}
        </DataTable>
      )}
    </div>
  );
}
