"use client";

import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from "recharts";
import { duration } from "@/lib/format";
import type { CronRun } from "@/lib/types";
import { seriesColour, timeFull, timeTick } from "@/components/charts/palette";

interface Point {
  t: number;
  d: number;
  run: CronRun;
}

/** Run durations over time: one line per job; runs started by hand are marked with a diamond. */
export function DurationChart({ runs }: { runs: CronRun[] }) {
  const timed = runs
    .filter((r) => r.startedAt && r.durationMs != null)
    .map((run) => ({ run, t: new Date(run.startedAt!).getTime(), d: run.durationMs! }))
    .sort((a, b) => a.t - b.t);
  if (timed.length === 0) {
    return <p className="muted">No finished runs to chart yet. Trigger a job with “Run now” to record one.</p>;
  }
  const jobs = [...new Set(timed.map((p) => p.run.job))].sort();
  const byJob = new Map<string, Point[]>(jobs.map((job) => [job, timed.filter((p) => p.run.job === job)]));
  const manual = timed.filter((p) => p.run.trigger === "manual");
  const span = timed[timed.length - 1]!.t - timed[0]!.t;
  const longest = Math.max(...timed.map((p) => p.d));

  return (
    <figure className="chart" data-testid="duration-chart" data-points={timed.length} data-manual={manual.length}>
      <div className="chart-frame" role="img" aria-label={`Durations of ${timed.length} runs of ${jobs.length} job(s), longest ${duration(longest)}; ${manual.length} started by hand`}>
        <ResponsiveContainer width="100%" height={240}>
          <ComposedChart margin={{ top: 8, right: 16, bottom: 4, left: 8 }}>
            <CartesianGrid stroke="#e5e9ef" vertical={false} />
            <XAxis dataKey="t" type="number" domain={["dataMin", "dataMax"]} scale="time" tickFormatter={(t: number) => timeTick(t, span)} tick={{ fontSize: 12, fill: "#5b6776" }} allowDuplicatedCategory={false} />
            <YAxis dataKey="d" type="number" tickFormatter={(d: number) => duration(d)} tick={{ fontSize: 12, fill: "#5b6776" }} width={72} />
            <Tooltip
              labelFormatter={(t) => timeFull(Number(t))}
              formatter={(value, name) => [duration(Number(value)), String(name)]}
            />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {jobs.map((job, i) => (
              <Line key={job} data={byJob.get(job)} dataKey="d" name={job} type="linear" stroke={seriesColour(i)} strokeWidth={1.5} dot={{ r: 3 }} isAnimationActive={false} />
            ))}
            {manual.length > 0 && <Scatter data={manual} dataKey="d" name="started by hand" shape="diamond" fill="#111827" isAnimationActive={false} />}
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted small">
        Duration of the latest {timed.length} finished runs, one line per job; a black diamond marks a run started by hand. Hover for details.
      </figcaption>
    </figure>
  );
}
