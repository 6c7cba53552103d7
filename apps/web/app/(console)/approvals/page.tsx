import type { Metadata } from "next";
import Link from "next/link";
import { api, canOperate, getMe } from "@/lib/api";
import { dateTime } from "@/lib/format";
import { APPROVALS } from "@/lib/queries";
import type { Approval } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { ReviewForm } from "./review-form";
import { TimeLeft } from "./time-left";

export const metadata: Metadata = { title: "Approvals" };

/** Plans shown at once; the count says how many wait in all. */
const SHOWN = 200;

function PlanCard({ task, operator }: { task: Approval; operator: boolean }) {
  const plan = task.output == null ? null : typeof task.output === "string" ? task.output : JSON.stringify(task.output, null, 2);
  return (
    <article className="card approval" data-testid="approval" data-task-id={task.id} aria-labelledby={`plan-${task.id}`}>
      <header className="approval-header">
        <h2 id={`plan-${task.id}`} className="approval-title">
          <Link href={`/tasks/${task.id}`} className="mono" title={task.id}>
            {task.id.slice(0, 8)}…
          </Link>{" "}
          <span className="muted">·</span> {task.type} <span className="muted">in</span> <Link href={`/pools/${encodeURIComponent(task.pool)}`}>{task.pool}</Link>
        </h2>
        <dl className="approval-meta small">
          <div>
            <dt>Plan ready</dt>
            <dd>{dateTime(task.planReadyAt)}</dd>
          </div>
          <div>
            <dt>Reserved slot</dt>
            <dd>
              {task.podName ?? "–"}
              {task.slot ? ` #${task.slot.index}` : ""}
            </dd>
          </div>
          <div>
            <dt>Reservation</dt>
            <dd>
              <TimeLeft until={task.slot?.reservedUntil ?? null} />
            </dd>
          </div>
          {task.idempotencyKey && (
            <div>
              <dt>Key</dt>
              <dd className="mono">{task.idempotencyKey}</dd>
            </div>
          )}
        </dl>
      </header>
      <details className="plan" open>
        <summary>Plan output</summary>
        {plan === null ? <p className="muted small">The agent reported no plan output.</p> : <pre data-testid="plan-output">{plan}</pre>}
      </details>
      {operator ? <ReviewForm id={task.id} /> : <p className="muted small">An operator or admin approves or rejects plans.</p>}
    </article>
  );
}

export default async function ApprovalsPage() {
  const [me, { approvals, approvalsCount }] = await Promise.all([getMe(), api<{ approvals: Approval[]; approvalsCount: number }>(APPROVALS, { first: SHOWN })]);
  const operator = canOperate(me.role);
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Approvals</h1>
        <p className="muted small" data-testid="approvals-summary">
          {approvalsCount === 0
            ? "No plan is waiting."
            : `${approvalsCount} ${approvalsCount === 1 ? "plan waits" : "plans wait"} for approval, the oldest first. Each holds a slot until it is approved, rejected or its reservation expires.`}
          {approvalsCount > approvals.length && ` Showing the oldest ${approvals.length}.`}
        </p>
      </header>
      {approvals.length === 0 ? (
        <EmptyState title="Nothing to approve" testId="approvals-empty">
          Plans of <code>plan_and_apply</code> tasks appear here when their agent reports them.{" "}
          <Link href="/tasks?status=apply_pending">See the task list</Link>.
        </EmptyState>
      ) : (
        <div className="stack">
          {approvals.map((task) => (
            <PlanCard key={task.id} task={task} operator={operator} />
          ))}
        </div>
      )}
    </div>
  );
}
