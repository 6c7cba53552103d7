import type { Metadata } from "next";
import { Suspense } from "react";
import { api } from "@/lib/api";
import { LOCKS } from "@/lib/queries";
import type { Lock } from "@/lib/types";
import { TableSkeleton } from "@/components/skeleton";
import { LocksTable } from "./locks-table";

export const metadata: Metadata = { title: "Locks" };

async function Locks() {
  const { locks } = await api<{ locks: Lock[] }>(LOCKS);
  return <LocksTable initial={locks} />;
}

export default function LocksPage() {
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Locks</h1>
        <p className="muted">Distributed locks held right now: who holds each, its fencing token and when it lapses.</p>
      </header>
      <section className="card">
        <Suspense fallback={<TableSkeleton rows={3} />}>
          <Locks />
        </Suspense>
      </section>
    </div>
  );
}
