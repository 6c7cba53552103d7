import type { Metadata } from "next";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { POOL_CHANGED, POOLS } from "@/lib/queries";
import type { PoolSummary } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { LiveRefresh } from "@/components/live-refresh";
import { CardsSkeleton } from "@/components/skeleton";
import { CreatePoolForm } from "./create-pool-form";
import { PoolCard } from "./pool-card";

export const metadata: Metadata = { title: "Pools" };

async function PoolList({ canCreate }: { canCreate: boolean }) {
  const { pools } = await api<{ pools: PoolSummary[] }>(POOLS);
  if (pools.length === 0) {
    return (
      <EmptyState title="No pools yet" testId="pools-empty">
        {canCreate ? "Create the first pool below: it starts its minimum number of pods at once." : "An operator or admin can create one."}
      </EmptyState>
    );
  }
  return (
    <div className="grid-cards" data-testid="pool-list">
      {pools.map((pool) => (
        <PoolCard key={pool.name} pool={pool} />
      ))}
    </div>
  );
}

export default async function PoolsPage() {
  const me = await getMe();
  const operator = canOperate(me.role);
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Pools</h1>
        <p className="muted">Worker pools, their pods and how busy their slots are. Updates live.</p>
      </header>
      <Suspense fallback={<CardsSkeleton cards={3} />}>
        <PoolList canCreate={operator} />
      </Suspense>
      {operator && (
        <section className="card" aria-labelledby="create-pool-heading">
          <h2 id="create-pool-heading">Create a pool</h2>
          <CreatePoolForm />
        </section>
      )}
      <LiveRefresh subscription={POOL_CHANGED} intervalMs={15_000} />
    </div>
  );
}
