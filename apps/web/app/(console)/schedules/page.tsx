import type { Metadata } from "next";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { LiveRefresh } from "@/components/live-refresh";
import { TableSkeleton } from "@/components/skeleton";
import { POOL_NAMES } from "./queries";
import { ScheduleForm } from "./schedule-form";
import { SchedulesTable } from "./schedules-table";
import { SystemJobs } from "./system-jobs";

export const metadata: Metadata = { title: "Schedules" };

async function NewSchedule() {
  const { pools } = await api<{ pools: { name: string }[] }>(POOL_NAMES);
  if (pools.length === 0) return <p className="muted">Create a pool first: a schedule submits its tasks to one.</p>;
  return <ScheduleForm pools={pools.map((p) => p.name)} />;
}

export default async function SchedulesPage() {
  const me = await getMe();
  const operator = canOperate(me.role);
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Schedules</h1>
        <p className="muted">Cron expressions that submit a task to a pool at each fire time, once, on whichever replica dispatches.</p>
      </header>
      {operator && (
        <section className="card" aria-labelledby="new-schedule-heading">
          <h2 id="new-schedule-heading" className="card-title">
            New schedule
          </h2>
          <Suspense fallback={<TableSkeleton rows={3} />}>
            <NewSchedule />
          </Suspense>
        </section>
      )}
      <section className="card" aria-labelledby="schedules-heading">
        <h2 id="schedules-heading" className="card-title">
          Schedules
        </h2>
        <Suspense fallback={<TableSkeleton rows={4} />}>
          <SchedulesTable operator={operator} />
        </Suspense>
      </section>
      <Suspense fallback={null}>
        <SystemJobs operator={operator} />
      </Suspense>
      <LiveRefresh intervalMs={5_000} />
    </div>
  );
}
