"use client";

import { useEffect, useState } from "react";
import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { clientGraphQL } from "@/lib/client/graphql";
import { POOL_UTILISATION } from "@/lib/queries";
import type { PoolUtilisation, ScalingEvent, UtilisationRange } from "@/lib/types";
import { timeFull, timeTick } from "@/components/charts/palette";

/** How often the chart asks again: about a sample interval for an hour, a bucket's fraction for a day. */
const REFRESH_MS: Record<UtilisationRange, number> = { HOUR: 5_000, DAY: 60_000 };

/** Scaling events drawn as markers: what changed the pod count (or tried to). */
const MARKERS: Record<string, { symbol: string; colour: string; label: string }> = {
  scale_up: { symbol: "▲", colour: "#15803d", label: "scale up" },
  ensure_min: { symbol: "▲", colour: "#15803d", label: "min pods" },
  scale_down: { symbol: "▼", colour: "#475569", label: "scale down" },
  manual_scale: { symbol: "◆", colour: "#7c3aed", label: "manual scale" },
  pod_drain: { symbol: "▽", colour: "#a16207", label: "pod drained" },
  pod_delete: { symbol: "▼", colour: "#a16207", label: "pod deleted" },
  pod_lost: { symbol: "✕", colour: "#b91c1c", label: "pod lost" },
};

const SERIES = [
  { key: "busySlots", name: "running slots", colour: "#1f9d63", fill: "#1f9d63" },
  { key: "reservedSlots", name: "reserved slots", colour: "#b7791f", fill: "#f0a92e" },
  { key: "idleSlots", name: "idle slots", colour: "#8a97a6", fill: "#dfe5ec" },
  { key: "startingSlots", name: "starting slots", colour: "#3b82c4", fill: "#cfe2f6" },
] as const;

/** The pending queue by why it waits, stacked (the pending_tasks_by_reason gauge, sampled). */
const QUEUE_SERIES = [
  { key: "pendingNoSlot", name: "no slot", colour: "#c2410c", fill: "#fdba8c" },
  { key: "pendingKeyBlocked", name: "key blocked", colour: "#7c3aed", fill: "#d8c8fb" },
  { key: "pendingReservedCap", name: "reserved cap", colour: "#a16207", fill: "#f6dd8f" },
] as const;

export function UtilisationChart({ pool }: { pool: string }) {
  const [range, setRange] = useState<UtilisationRange>("HOUR");
  const [data, setData] = useState<PoolUtilisation | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      clientGraphQL<{ pool: { utilisation: PoolUtilisation } | null }>(POOL_UTILISATION, { name: pool, range })
        .then((answer) => {
          if (cancelled) return;
          setData(answer.pool?.utilisation ?? null);
          setError(null);
        })
        .catch((e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)));
    void load();
    const timer = setInterval(load, REFRESH_MS[range]);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [pool, range]);

  const points = (data?.range === range ? data.points : []).map((p) => ({ ...p, t: Date.parse(p.at) }));
  const markers = (data?.range === range ? data.events : []).filter((e) => MARKERS[e.kind]);
  // A young pool's few points are not squeezed into the right edge: the axis starts at its first
  // sample (or event), showing at least the last two minutes.
  const first = Math.min(...points.map((p) => p.t), ...markers.map((e) => Date.parse(e.at)));
  const from = data ? Math.max(Date.parse(data.from), Math.min(first, Date.parse(data.to) - 2 * 60_000)) : 0;
  const to = data ? Date.parse(data.to) : 0;
  const scaleUps = markers.filter((e) => e.kind === "scale_up").length;

  return (
    <section className="card" aria-labelledby="utilisation-heading" data-testid="utilisation">
      <header className="card-header">
        <h2 id="utilisation-heading" className="card-title">
          Utilisation
        </h2>
        <div className="segmented" role="group" aria-label="Time range">
          {(["HOUR", "DAY"] as const).map((r) => (
            <button key={r} type="button" className="button button-small" aria-pressed={range === r} onClick={() => setRange(r)} data-testid={`range-${r.toLowerCase()}`}>
              Last {r === "HOUR" ? "hour" : "day"}
            </button>
          ))}
        </div>
      </header>
      {error && (
        <p role="alert" className="alert alert-error">
          Could not load utilisation: {error}
        </p>
      )}
      <figure className="chart" data-testid="utilisation-chart" data-points={points.length} data-scale-ups={scaleUps} data-markers={markers.length}>
        {points.length === 0 && markers.length === 0 ? (
          <p className="muted" data-testid="utilisation-empty">
            {data ? "No samples in this range yet: the reconcile pass samples the pool every few seconds." : "Loading…"}
          </p>
        ) : (
          <>
            <div className="chart-frame" role="img" aria-label={describe(points, markers, range)}>
              <ResponsiveContainer width="100%" height={260}>
                <ComposedChart data={points} margin={{ top: 18, right: 12, bottom: 4, left: 0 }}>
                  <CartesianGrid stroke="#e5e9ef" vertical={false} />
                  <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} tickFormatter={(t: number) => timeTick(t, to - from)} tick={{ fontSize: 12, fill: "#5b6776" }} />
                  <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: "#5b6776" }} width={36} />
                  <Tooltip labelFormatter={(t) => timeFull(Number(t))} formatter={(value, name) => [round(Number(value)), String(name)]} />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  {SERIES.map((s) => (
                    <Area key={s.key} dataKey={s.key} name={s.name} stackId="slots" type="stepAfter" stroke={s.colour} fill={s.fill} fillOpacity={0.85} isAnimationActive={false} />
                  ))}
                  <Line dataKey="pendingTasks" name="pending tasks" type="stepAfter" stroke="#c2410c" strokeWidth={2} dot={false} isAnimationActive={false} />
                  <Line dataKey="podCount" name="pods" type="stepAfter" stroke="#1f4e79" strokeWidth={2} strokeDasharray="5 3" dot={false} isAnimationActive={false} />
                  {markers.map((e, i) => (
                    <ReferenceLine
                      key={`${e.at}-${i}`}
                      x={Date.parse(e.at)}
                      stroke={MARKERS[e.kind]!.colour}
                      strokeDasharray="3 3"
                      className={`marker marker-${e.kind}`}
                      label={{ value: MARKERS[e.kind]!.symbol, position: "top", fill: MARKERS[e.kind]!.colour, fontSize: 12 }}
                    />
                  ))}
                </ComposedChart>
              </ResponsiveContainer>
            </div>
            <div className="chart-frame" role="img" data-testid="queue-chart" aria-label={describeQueue(points)}>
              <ResponsiveContainer width="100%" height={110}>
                <ComposedChart data={points} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
                  <CartesianGrid stroke="#e5e9ef" vertical={false} />
                  <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} hide />
                  <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: "#5b6776" }} width={36} />
                  <Tooltip labelFormatter={(t) => timeFull(Number(t))} formatter={(value, name) => [round(Number(value)), String(name)]} />
                  <Legend wrapperStyle={{ fontSize: 12 }} formatter={(name) => `pending: ${String(name)}`} />
                  {QUEUE_SERIES.map((s) => (
                    <Area key={s.key} dataKey={s.key} name={s.name} stackId="queue" type="stepAfter" stroke={s.colour} fill={s.fill} fillOpacity={0.85} isAnimationActive={false} />
                  ))}
                </ComposedChart>
              </ResponsiveContainer>
            </div>
          </>
        )}
        <figcaption className="muted small">
          Slots stacked by state, with pending tasks and pods; below, pending tasks stacked by why they wait; {data?.range === "DAY" ? "5-minute averages" : `a sample every ${data?.stepSeconds ?? 15} s`}. Markers:{" "}
          {Object.entries(MARKERS)
            .filter(([kind]) => kind !== "ensure_min" && kind !== "pod_delete")
            .map(([kind, m]) => (
              <span key={kind} className="marker-key">
                <span style={{ color: m.colour }} aria-hidden="true">
                  {m.symbol}
                </span>{" "}
                {m.label}
              </span>
            ))}
        </figcaption>
      </figure>
    </section>
  );
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function describeQueue(points: { pendingNoSlot: number; pendingKeyBlocked: number; pendingReservedCap: number }[]): string {
  const last = points.at(-1);
  if (!last) return "Pending tasks by reason: no samples";
  return `Pending tasks by reason, latest: ${round(last.pendingNoSlot)} waiting for a slot, ${round(last.pendingKeyBlocked)} blocked by their concurrency key, ${round(last.pendingReservedCap)} held by the reserved cap`;
}

function describe(points: { busySlots: number; reservedSlots: number; podCount: number; pendingTasks: number }[], markers: ScalingEvent[], range: UtilisationRange): string {
  const last = points.at(-1);
  const now = last ? `latest: ${round(last.busySlots)} running, ${round(last.reservedSlots)} reserved, ${round(last.pendingTasks)} pending, ${round(last.podCount)} pods` : "no samples";
  return `Utilisation over the last ${range === "HOUR" ? "hour" : "day"}, ${points.length} points (${now}); ${markers.length} scaling event(s) marked.`;
}
