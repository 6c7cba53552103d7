import type { Metadata } from "next";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { CRON_JOBS, CRON_RUN_UPDATED, CRON_RUNS } from "@/lib/queries";
import type { CronJob, CronRun } from "@/lib/types";
import { LiveRefresh } from "@/components/live-refresh";
import { TableSkeleton } from "@/components/skeleton";
import { DurationChart } from "./duration-chart";
import { JobsTable } from "./jobs-table";
import { Pagination } from "./pagination";
import { RunFilters } from "./run-filters";
import { RunsTable } from "./runs-table";

export const metadata: Metadata = { title: "Cron" };

const PAGE_SIZE = 20;
const CHART_RUNS = 100;

interface Filters {
  job?: string;
  status?: string;
  page: number;
}

interface RunsPage {
  cronRuns: CronRun[];
  cronRunCount: number;
}

async function RunHistory({ filters }: { filters: Filters }) {
  const vars = { job: filters.job ?? null, status: filters.status ?? null };
  const [page, chart] = await Promise.all([
    api<RunsPage>(CRON_RUNS, { ...vars, first: PAGE_SIZE, offset: (filters.page - 1) * PAGE_SIZE }),
    api<RunsPage>(CRON_RUNS, { ...vars, first: CHART_RUNS, offset: 0 }),
  ]);
  const query: Record<string, string> = {};
  if (filters.job) query.job = filters.job;
  if (filters.status) query.status = filters.status;
  return (
    <>
      <DurationChart runs={chart.cronRuns} />
      <RunsTable runs={page.cronRuns} filtered={Boolean(filters.job || filters.status)} />
      <Pagination page={filters.page} pageSize={PAGE_SIZE} total={page.cronRunCount} query={query} pathname="/cron" />
    </>
  );
}

async function JobFilter() {
  const { cronJobs } = await api<{ cronJobs: Pick<CronJob, "name">[] }>(CRON_JOBS);
  return <RunFilters jobs={cronJobs.map((j) => j.name)} />;
}

export default async function CronPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;
  const filters: Filters = {
    job: one(params.job),
    status: one(params.status),
    page: Math.max(1, Math.floor(Number(one(params.page)) || 1)),
  };
  const me = await getMe();
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Cron</h1>
        <p className="muted">Cluster-safe scheduled jobs: each fire time runs on exactly one replica.</p>
      </header>
      <section className="card" aria-labelledby="jobs-heading">
        <h2 id="jobs-heading">Jobs</h2>
        <Suspense fallback={<TableSkeleton rows={3} />}>
          <JobsTable operator={canOperate(me.role)} />
        </Suspense>
      </section>
      <section className="card" aria-labelledby="runs-heading">
        <div className="card-header">
          <h2 id="runs-heading" className="card-title">
            Run history
          </h2>
          <Suspense fallback={null}>
            <JobFilter />
          </Suspense>
        </div>
        <Suspense key={`${filters.job}|${filters.status}|${filters.page}`} fallback={<TableSkeleton rows={6} />}>
          <RunHistory filters={filters} />
        </Suspense>
      </section>
      <LiveRefresh subscription={CRON_RUN_UPDATED} intervalMs={30_000} />
    </div>
  );
}
