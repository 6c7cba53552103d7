import type { Metadata } from "next";
import Link from "next/link";
import { api, getMe, isAdmin } from "@/lib/api";
import { dateTime } from "@/lib/format";
import { AUDIT_LOG } from "@/lib/queries";
import type { AuditEntry } from "@/lib/types";
import { hrefWith, one, utcTime, type SearchParams } from "@/lib/url-state";
import { CursorPager } from "@/components/cursor-pager";
import { DataTable } from "@/components/data-table";
import { EmptyState } from "@/components/empty-state";

export const metadata: Metadata = { title: "Audit log" };

const PAGE_SIZE = 50;
const KEYS = ["actor", "operation", "target", "outcome", "from", "to"] as const;
const TASK_OPERATION = /^(submit|approve|reject|cancel)Task$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AuditConnection {
  edges: { node: AuditEntry }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

function Filters({ params }: { params: SearchParams }) {
  const filtered = KEYS.some((k) => one(params[k]));
  return (
    <form method="get" action="/audit" className="task-filters" role="search" aria-label="Filter the audit log" data-testid="audit-filters">
      <label className="field">
        <span>Actor (token name)</span>
        <input name="actor" defaultValue={one(params.actor) ?? ""} data-testid="audit-actor" />
      </label>
      <label className="field">
        <span>Operation</span>
        <input name="operation" defaultValue={one(params.operation) ?? ""} placeholder="e.g. approveTask" data-testid="audit-operation" />
      </label>
      <label className="field">
        <span>Target contains</span>
        <input name="target" defaultValue={one(params.target) ?? ""} data-testid="audit-target" />
      </label>
      <label className="field">
        <span>Outcome</span>
        <select name="outcome" defaultValue={one(params.outcome) ?? ""} data-testid="audit-outcome">
          <option value="">Any</option>
          <option value="ok">ok</option>
          <option value="error">any error</option>
          <option value="FORBIDDEN">FORBIDDEN</option>
          <option value="BAD_USER_INPUT">BAD_USER_INPUT</option>
          <option value="NOT_FOUND">NOT_FOUND</option>
          <option value="CONFLICT">CONFLICT</option>
        </select>
      </label>
      <label className="field">
        <span>From (UTC)</span>
        <input name="from" type="datetime-local" step="1" defaultValue={one(params.from) ?? ""} />
      </label>
      <label className="field">
        <span>Before (UTC)</span>
        <input name="to" type="datetime-local" step="1" defaultValue={one(params.to) ?? ""} />
      </label>
      <div className="task-filters-actions">
        <button type="submit" className="button button-primary button-small" data-testid="audit-apply">
          Apply
        </button>
        {filtered && (
          <Link href="/audit" className="button button-small">
            Clear
          </Link>
        )}
      </div>
    </form>
  );
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const [me, params] = await Promise.all([getMe(), searchParams]);
  if (!isAdmin(me.role)) {
    return (
      <div className="page">
        <h1 className="page-title">Audit log</h1>
        <EmptyState title="Admins only" testId="audit-forbidden">
          The audit log shows who did what with every token; sign in with an admin token to read it.
        </EmptyState>
      </div>
    );
  }
  const filter = {
    actor: one(params.actor),
    operation: one(params.operation),
    target: one(params.target),
    outcome: one(params.outcome),
    from: utcTime(one(params.from)),
    to: utcTime(one(params.to)),
  };
  const after = one(params.after);
  const { auditLog } = await api<{ auditLog: AuditConnection }>(AUDIT_LOG, { first: PAGE_SIZE, after, filter });
  const entries = auditLog.edges.map((e) => e.node);
  const pager = (
    <CursorPager
      label="Audit log pages"
      testId="audit"
      newest={after ? hrefWith("/audit", params, { after: undefined }) : undefined}
      older={auditLog.pageInfo.hasNextPage && auditLog.pageInfo.endCursor ? hrefWith("/audit", params, { after: auditLog.pageInfo.endCursor }) : undefined}
    />
  );
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Audit log</h1>
        <p className="muted small">Every change made through the API, newest first: who (token and role), what, on what, and how it ended. Kept for AUDIT_RETENTION_DAYS (90 days unless set).</p>
      </header>
      <section className="card" aria-label="Audit entries">
        <Filters params={params} />
        {entries.length === 0 ? (
          <EmptyState title="No entry matches" testId="audit-empty">
            Changes appear here as soon as they are made.
          </EmptyState>
        ) : (
          <DataTable columns={["Time", "Actor", "Operation", "Target", "Outcome"]} testId="audit-table" footer={pager}>
            {entries.map((e) => (
              <tr key={e.id} data-testid="audit-row" data-operation={e.operation} data-outcome={e.outcome}>
                <td className="nowrap">{dateTime(e.at)}</td>
                <td>
                  {e.actor} <span className={`role role-${e.role}`}>{e.role}</span>
                </td>
                <td className="mono nowrap">{e.operation}</td>
                <td className="mono">
                  <span className="audit-target">
                    {e.target && TASK_OPERATION.test(e.operation) && UUID.test(e.target) ? <Link href={`/tasks/${e.target}`}>{e.target}</Link> : (e.target ?? "–")}
                  </span>
                </td>
                <td>
                  <span className={`status ${e.outcome === "ok" ? "status-succeeded" : "status-failed"}`}>{e.outcome}</span>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </div>
  );
}
