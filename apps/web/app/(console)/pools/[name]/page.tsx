import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { api, canOperate, getMe, isAdmin } from "@/lib/api";
import { displayValue, POOL_SETTINGS, SETTING_GROUPS } from "@/lib/pool-settings";
import { POOL } from "@/lib/queries";
import type { CapacityWindow, PoolDetail } from "@/lib/types";
import { Conditions } from "@/components/conditions";
import { TableSkeleton } from "@/components/skeleton";
import { DeletePool } from "./delete-pool";
import { LivePool } from "./live-pool";
import { PoolSettingsForm } from "./pool-settings-form";
import { ScalingControls } from "./scaling-controls";
import { ScalingTimeline } from "./scaling-timeline";
import { SubmitTaskForm } from "./submit-task-form";
import type { SearchParams } from "@/lib/url-state";
import { TaskBrowser } from "@/components/tasks/task-browser";

/** What a capacity window does, in a few words. */
function windowEffects(w: Pick<CapacityWindow, "minPods" | "maxPods" | "blockScaleDown">): string {
  return [w.minPods !== null ? `keep ${w.minPods} pods` : null, w.maxPods !== null ? `up to ${w.maxPods} pods` : null, w.blockScaleDown ? "no scale-down" : null]
    .filter(Boolean)
    .join(", ");
}
import { seconds } from "@/lib/format";
import { UtilisationChart } from "./utilisation-chart";

interface Props {
  params: Promise<{ name: string }>;
  searchParams: Promise<SearchParams>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Pool ${decodeURIComponent((await params).name)}` };
}

export default async function PoolPage({ params, searchParams }: Props) {
  const name = decodeURIComponent((await params).name);
  const query = await searchParams;
  const [me, { pool }] = await Promise.all([getMe(), api<{ pool: PoolDetail | null }>(POOL, { name })]);
  if (!pool) notFound();
  const operator = canOperate(me.role);

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link href="/pools">Pools</Link> <span aria-hidden="true">/</span> <span aria-current="page">{pool.name}</span>
      </nav>
      <header className="page-header">
        <h1 className="page-title" data-testid="pool-title">
          {pool.name}
        </h1>
        <div className="badges">
          <span className="badge">{pool.runtime}</span>
          {pool.image && <span className="badge mono">{pool.image}</span>}
          <span className={`badge ${pool.autoscale ? "badge-on" : ""}`} data-testid="autoscale-badge">
            autoscale {pool.autoscale ? "on" : "off"}
          </span>
          <span className="badge">
            {pool.minPods}–{pool.maxPods} pods
          </span>
        </div>
        <Conditions conditions={pool.conditions} />
        {pool.activeCapacityWindow && (
          <p className="muted small" data-testid="active-capacity-window">
            Capacity window {pool.activeCapacityWindow.index + 1} in effect until {new Date(pool.activeCapacityWindow.endsAt).toISOString().slice(0, 16).replace("T", " ")} UTC:{" "}
            {windowEffects(pool.activeCapacityWindow.window)}
          </p>
        )}
      </header>

      <LivePool initial={pool} operator={operator} />

      <UtilisationChart pool={pool.name} />

      {operator && (
        <div className="columns">
          <section className="card" aria-labelledby="scaling-heading">
            <h2 id="scaling-heading">Scale now</h2>
            <ScalingControls pool={pool} />
          </section>
          <section className="card" aria-labelledby="submit-heading">
            <h2 id="submit-heading">Submit a task</h2>
            <p className="muted small">A pool without declared task types runs the built-in ones: plan for the duration, wait for approval (plan_and_apply), then apply. The demo pool declares them as scripts that log their progress.</p>
            <SubmitTaskForm pool={pool.name} />
          </section>
        </div>
      )}

      <section className="card" aria-labelledby="tasks-heading">
        <h2 id="tasks-heading">Tasks</h2>
        <Suspense key={JSON.stringify(query)} fallback={<TableSkeleton rows={4} />}>
          <TaskBrowser pathname={`/pools/${encodeURIComponent(pool.name)}`} params={query} operator={operator} pool={pool.name} />
        </Suspense>
      </section>

      <section className="card" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Scaling events</h2>
        <ScalingTimeline events={pool.scalingEvents} />
      </section>
      <section className="card" aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        {operator ? (
          <PoolSettingsForm pool={pool.name} values={pool as unknown as Record<string, unknown>} admin={isAdmin(me.role)} />
        ) : (
          <SettingsList values={pool as unknown as Record<string, unknown>} />
        )}
        <dl className="details">
          <dt>Pod recycling</dt>
          <dd data-testid="pod-recycling">
            {pool.maxTasksPerPod === null && pool.maxPodAgeSeconds === null
              ? "off"
              : [pool.maxTasksPerPod !== null ? `after ${pool.maxTasksPerPod} task(s)` : null, pool.maxPodAgeSeconds !== null ? `after ${seconds(pool.maxPodAgeSeconds)}` : null]
                  .filter(Boolean)
                  .join(" or ")}
          </dd>
          <dt>Capacity windows</dt>
          <dd data-testid="capacity-windows">
            {pool.capacityWindows.length === 0
              ? "none"
              : pool.capacityWindows.map((w, i) => (
                  <div key={i} className="small">
                    <span className="mono">{w.cron}</span> {w.timeZone}, {seconds(w.durationSeconds)}: {windowEffects(w)}
                  </div>
                ))}
          </dd>
        </dl>
      </section>

      {operator && (
        <section className="card danger-zone" aria-labelledby="delete-heading">
          <h2 id="delete-heading">Delete this pool</h2>
          <p className="muted small">The API refuses while tasks still hold slots; cancel or finish them first.</p>
          <DeletePool pool={pool.name} />
        </section>
      )}
    </div>
  );
}

/** The settings for those who may not change them: the same list, read-only. */
function SettingsList({ values }: { values: Record<string, unknown> }) {
  return (
    <dl className="details" data-testid="pool-settings">
      {SETTING_GROUPS.flatMap((group) =>
        POOL_SETTINGS.filter((s) => s.group === group && s.kind !== "json").map((s) => {
          const shown = displayValue(s, values[s.name]);
          const text = s.kind === "bool" ? (shown ? "yes" : "no") : shown === "" ? (s.emptyMeans ?? "–") : `${shown}${s.kind === "percent" ? " %" : s.kind === "seconds" ? " s" : ""}`;
          return [<dt key={`${s.name}-t`}>{s.label}</dt>, <dd key={`${s.name}-d`}>{text}</dd>];
        }),
      )}
    </dl>
  );
}
