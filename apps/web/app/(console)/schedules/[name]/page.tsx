import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { dateTime, seconds } from "@/lib/format";
import { LiveRefresh } from "@/components/live-refresh";
import { TableSkeleton } from "@/components/skeleton";
import { describeSchedule } from "../../cron/describe-schedule";
import { BackfillDialog } from "../backfill-dialog";
import { POOL_NAMES, SCHEDULE_DETAIL, type ScheduleView } from "../queries";
import { RunsTable } from "../runs-table";
import { ScheduleActions } from "../schedule-actions";
import { ScheduleForm } from "../schedule-form";
import { inZone } from "../zone-time";

type Params = Promise<{ name: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  return { title: `Schedule ${decodeURIComponent((await params).name)}` };
}

export default async function SchedulePage({ params, searchParams }: { params: Params; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const name = decodeURIComponent((await params).name);
  const query = await searchParams;
  const after = typeof query.after === "string" ? query.after : undefined;
  const [me, { schedule }] = await Promise.all([getMe(), api<{ schedule: ScheduleView | null }>(SCHEDULE_DETAIL, { name })]);
  if (!schedule) notFound();
  const operator = canOperate(me.role);
  const pools = operator ? (await api<{ pools: { name: string }[] }>(POOL_NAMES)).pools.map((p) => p.name) : [];
  return (
    <div className="page">
      <header className="page-header">
        <nav className="breadcrumbs">
          <Link href="/schedules">Schedules</Link> / {schedule.name}
        </nav>
        <h1 className="page-title" data-testid="schedule-title">
          {schedule.name}
          {schedule.paused && (
            <span className="badge badge-warn" data-testid="paused-badge">
              paused
            </span>
          )}
        </h1>
        <p className="muted">
          <code>{schedule.cron}</code> · {describeSchedule(schedule.cron) ?? "custom schedule"} ({schedule.timeZone}) → <Link href={`/pools/${encodeURIComponent(schedule.pool)}`}>{schedule.pool}</Link>, task
          type {schedule.taskType}
        </p>
      </header>
      <div className="columns">
        <section className="card" aria-labelledby="state-heading">
          <h2 id="state-heading" className="card-title">
            State
          </h2>
          <dl className="details">
            <dt>Next fire times</dt>
            <dd className="small mono" data-testid="schedule-next">
              {schedule.nextFireTimes.length ? schedule.nextFireTimes.map((t) => <div key={t}>{inZone(t, schedule.timeZone)}</div>) : "none"}
            </dd>
            <dt>Overlap</dt>
            <dd>{schedule.overlap}</dd>
            <dt>Catch-up window</dt>
            <dd>{seconds(schedule.catchupWindowSeconds)}</dd>
            <dt>Runs</dt>
            <dd>
              {schedule.runCount}
              {schedule.maxRuns != null ? ` of ${schedule.maxRuns}` : ""}
            </dd>
            <dt>Failures in a row</dt>
            <dd>
              {schedule.consecutiveFailures}
              {schedule.pauseAfterFailures != null ? ` (pauses at ${schedule.pauseAfterFailures})` : ""}
            </dd>
            {schedule.paused && (
              <>
                <dt>Paused</dt>
                <dd data-testid="pause-note-shown">
                  {dateTime(schedule.pausedAt)} by {schedule.pausedBy ?? "?"}
                  {schedule.pauseNote ? `: ${schedule.pauseNote}` : ""}
                </dd>
              </>
            )}
          </dl>
          {operator && (
            <div className="row-actions">
              <ScheduleActions name={schedule.name} paused={schedule.paused} canDelete />
              <BackfillDialog name={schedule.name} />
            </div>
          )}
        </section>
        {operator && (
          <section className="card" aria-labelledby="edit-heading">
            <h2 id="edit-heading" className="card-title">
              Edit
            </h2>
            <ScheduleForm pools={pools} schedule={schedule} key={schedule.updatedAt} />
          </section>
        )}
      </div>
      <section className="card" aria-labelledby="runs-heading">
        <h2 id="runs-heading" className="card-title">
          Runs
        </h2>
        <Suspense key={after ?? "newest"} fallback={<TableSkeleton rows={6} />}>
          <RunsTable schedule={schedule.name} timeZone={schedule.timeZone} after={after} />
        </Suspense>
      </section>
      <LiveRefresh intervalMs={3_000} />
    </div>
  );
}
