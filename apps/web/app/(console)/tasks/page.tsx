import type { Metadata } from "next";
import { Suspense } from "react";
import { canOperate, getMe } from "@/lib/api";
import type { SearchParams } from "@/lib/url-state";
import { TableSkeleton } from "@/components/skeleton";
import { TaskBrowser } from "@/components/tasks/task-browser";

export const metadata: Metadata = { title: "Tasks" };

export default async function TasksPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const [me, params] = await Promise.all([getMe(), searchParams]);
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Tasks</h1>
        <p className="muted small">Every task of every pool, newest first. Filters and pages live in the address, so a view can be shared.</p>
      </header>
      <section className="card" aria-label="Task list">
        <Suspense key={JSON.stringify(params)} fallback={<TableSkeleton rows={6} />}>
          <TaskBrowser pathname="/tasks" params={params} operator={canOperate(me.role)} />
        </Suspense>
      </section>
    </div>
  );
}
