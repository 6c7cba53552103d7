import type { Metadata } from "next";
import { Suspense } from "react";
import { api } from "@/lib/api";
import { dateTime } from "@/lib/format";
import { CLUSTER_PAGE } from "@/lib/queries";
import type { ClusterView } from "@/lib/types";
import { DataTable } from "@/components/data-table";
import { LiveRefresh } from "@/components/live-refresh";
import { TableSkeleton } from "@/components/skeleton";
import { Since } from "./since";

export const metadata: Metadata = { title: "Cluster" };

async function ClusterDetails() {
  const { cluster } = await api<{ cluster: ClusterView }>(CLUSTER_PAGE);
  const alive = cluster.replicas.filter((r) => r.alive);
  return (
    <>
      <section className="card" aria-labelledby="mode-heading">
        <h2 id="mode-heading">Mode</h2>
        <dl className="stats">
          <div>
            <dt>Cluster mode</dt>
            <dd data-testid="cluster-mode">{cluster.mode}</dd>
          </div>
          <div>
            <dt>Replicas alive</dt>
            <dd data-testid="replica-count">{cluster.totalReplicas}</dd>
          </div>
          <div>
            <dt>Expected by configuration</dt>
            <dd>{cluster.configuredReplicas}</dd>
          </div>
          <div>
            <dt>Environment</dt>
            <dd>{cluster.environment}</dd>
          </div>
        </dl>
        <p className="muted small">
          Detected because: {cluster.reason}. This page was answered by <span className="mono">{cluster.replicaId}</span>.
        </p>
      </section>

      <section className="card" aria-labelledby="services-heading">
        <h2 id="services-heading">Services</h2>
        <ul className="service-cards" aria-label="Services">
          {cluster.services.map((s) => (
            <li key={s.name} className={`service-card service-${s.status}`} data-testid="service" data-service={s.name} data-status={s.status}>
              <strong>{s.name}</strong>
              <span className="small">
                {s.backend} · {s.status === "ok" ? `answering in ${s.latencyMs ?? "?"} ms` : s.status === "unused" ? "not used in this mode" : "not answering"}
              </span>
              {s.status !== "ok" && <span className="muted small">{s.message}</span>}
            </li>
          ))}
        </ul>
        <p className="muted small">Checked from {cluster.replicaId} when the page loaded, each within 2 s.</p>
      </section>

      <section className="card" aria-labelledby="replicas-heading">
        <h2 id="replicas-heading">
          Replicas <span className="muted small">({alive.length} alive)</span>
        </h2>
        <DataTable columns={["Replica", "State", "Version", "Host", "Mode", "Started", "Last heartbeat", "Locks held"]} testId="replicas-table">
          {cluster.replicas.map((r) => (
            <tr key={r.id} data-testid="replica-row" data-replica={r.id} data-alive={r.alive}>
              <td className="mono">
                {r.id}
                {r.self && <span className="badge">this one</span>}
              </td>
              <td>
                <span className={`badge ${r.alive ? "badge-on" : "phase-lost"}`}>{r.alive ? "alive" : "gone"}</span>
              </td>
              <td className="mono">{r.version}</td>
              <td className="mono">{r.host}</td>
              <td>{r.mode}</td>
              <td title={dateTime(r.startedAt)}>
                <Since iso={r.startedAt} />
              </td>
              <td title={dateTime(r.lastSeenAt)}>
                <Since iso={r.lastSeenAt} />
              </td>
              <td>
                {r.locks.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul className="lock-list">
                    {r.locks.map((l) => (
                      <li key={l.key} className="mono small">
                        {l.key}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
        <p className="muted small">Each API process renews its row every few seconds; one unseen for three heartbeats is gone, and is removed from the list later.</p>
      </section>
    </>
  );
}

export default function ClusterPage() {
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Cluster</h1>
        <p className="muted">The API replicas alive now, the locks each holds, and the services they depend on.</p>
      </header>
      <LiveRefresh intervalMs={5_000} />
      <Suspense fallback={<TableSkeleton rows={3} />}>
        <ClusterDetails />
      </Suspense>
    </div>
  );
}
