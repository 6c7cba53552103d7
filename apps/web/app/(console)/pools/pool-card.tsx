import Link from "next/link";
import type { PoolSummary } from "@/lib/types";
import { Conditions } from "@/components/conditions";
import { UtilizationBar } from "@/components/utilization-bar";

export function PoolCard({ pool }: { pool: PoolSummary }) {
  const idle = Math.max(pool.totalSlots - pool.busySlots - pool.reservedSlots, 0);
  return (
    <article className="card pool-card" data-testid="pool-card" data-pool={pool.name}>
      <header className="card-header">
        <h2 className="card-title">
          <Link href={`/pools/${encodeURIComponent(pool.name)}`}>{pool.name}</Link>
        </h2>
        <span className="badge">{pool.runtime}</span>
        <span className={`badge ${pool.autoscale ? "badge-on" : ""}`}>autoscale {pool.autoscale ? "on" : "off"}</span>
      </header>
      <UtilizationBar busy={pool.busySlots} reserved={pool.reservedSlots} total={pool.totalSlots} utilization={pool.utilization} />
      <dl className="stats">
        <div>
          <dt>Pods</dt>
          <dd data-testid="pool-pods">
            {pool.podCount} <span className="muted small">({pool.minPods}–{pool.maxPods})</span>
          </dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd>{pool.busySlots}</dd>
        </div>
        <div>
          <dt>Reserved</dt>
          <dd>{pool.reservedSlots}</dd>
        </div>
        <div>
          <dt>Idle</dt>
          <dd>{idle}</dd>
        </div>
        <div>
          <dt>Pending tasks</dt>
          <dd>{pool.pendingTasks}</dd>
        </div>
      </dl>
      <Conditions conditions={pool.conditions} />
    </article>
  );
}
