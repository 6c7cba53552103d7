import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { api, canOperate, getMe } from "@/lib/api";
import { dateTime, seconds } from "@/lib/format";
import { SLOT_CHANGED, TASK_DETAIL } from "@/lib/queries";
import type { TaskDetail } from "@/lib/types";
import { LiveRefresh } from "@/components/live-refresh";
import { TaskActions } from "@/components/tasks/task-actions";
import { LiveLog } from "./live-log";
import { Timeline } from "./timeline";

interface Props {
  params: Promise<{ id: string }>;
}

const ENDED = new Set(["succeeded", "failed", "cancelled", "expired"]);

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Task ${decodeURIComponent((await params).id).slice(0, 8)}` };
}

function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export default async function TaskPage({ params }: Props) {
  const id = decodeURIComponent((await params).id);
  const [me, { task }] = await Promise.all([getMe(), api<{ task: TaskDetail | null }>(TASK_DETAIL, { id })]);
  if (!task) notFound();
  const operator = canOperate(me.role);
  const ended = ENDED.has(task.status);
  const poolHref = `/pools/${encodeURIComponent(task.pool)}`;

  return (
    <div className="page">
      {/* Slot events of the pool mark every move of its tasks; the interval catches what they do not. */}
      {!ended && <LiveRefresh subscription={SLOT_CHANGED} variables={{ pool: task.pool }} intervalMs={5_000} />}
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link href="/pools">Pools</Link> <span aria-hidden="true">/</span> <Link href={poolHref}>{task.pool}</Link> <span aria-hidden="true">/</span>{" "}
        <span aria-current="page" className="mono">
          {task.id.slice(0, 8)}
        </span>
      </nav>
      <header className="page-header">
        <h1 className="page-title">
          Task <span className="mono">{task.id}</span>
        </h1>
        <div className="badges">
          <span className="badge">{task.type}</span>
          <span className={`status status-${task.status}`} data-testid="task-status">
            {task.status}
          </span>
        </div>
        {operator && <TaskActions id={task.id} status={task.status} />}
      </header>

      <div className="columns">
        <section className="card" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Timeline</h2>
          <Timeline task={task} />
        </section>
        <section className="card" aria-labelledby="run-heading">
          <h2 id="run-heading">Run</h2>
          <dl className="details">
            <dt>Pool</dt>
            <dd>
              <Link href={poolHref}>{task.pool}</Link>
            </dd>
            <dt>Pod / slot</dt>
            <dd>{task.podName ? `${task.podName}${task.slotIndex !== null ? ` #${task.slotIndex}` : ""}${task.pod ? "" : " (gone)"}` : "–"}</dd>
            <dt>Attempts</dt>
            <dd data-testid="task-attempts">{task.attempts}</dd>
            <dt>Run deadline per phase</dt>
            <dd>{task.timeoutSeconds === null ? "none" : seconds(task.timeoutSeconds)}</dd>
            {!ended && task.deadlineAt && (
              <>
                <dt>Current deadline</dt>
                <dd>{dateTime(task.deadlineAt)}</dd>
              </>
            )}
            {task.slot?.reservedUntil && (
              <>
                <dt>Reserved until</dt>
                <dd>{dateTime(task.slot.reservedUntil)}</dd>
              </>
            )}
            {task.error && (
              <>
                <dt>Error</dt>
                <dd className="error-text">{task.error}</dd>
              </>
            )}
          </dl>
        </section>
      </div>

      <section className="card" aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        <LiveLog taskId={task.id} />
      </section>

      <div className="columns">
        <section className="card" aria-labelledby="payload-heading">
          <h2 id="payload-heading">Payload</h2>
          <Json value={task.payload} label="Payload (JSON)" />
        </section>
        <section className="card" aria-labelledby="output-heading">
          <h2 id="output-heading">{task.status === "apply_pending" ? "Plan to approve" : "Output"}</h2>
          {task.output == null ? <p className="muted">None yet.</p> : <Json value={task.output} label="Output (JSON)" />}
        </section>
      </div>
    </div>
  );
}
