import { dateTime, duration } from "@/lib/format";
import type { CronRun } from "@/lib/types";

const WIDTH = 960;
const HEIGHT = 220;
const PAD = { top: 12, right: 16, bottom: 28, left: 64 };

interface Point {
  x: number;
  y: number;
  run: CronRun;
}

/** Run durations over time as an inline SVG: one dot per finished run, coloured by status. */
export function DurationChart({ runs }: { runs: CronRun[] }) {
  const timed = runs
    .filter((r) => r.startedAt && r.durationMs != null)
    .map((r) => ({ run: r, t: new Date(r.startedAt!).getTime(), d: r.durationMs! }))
    .sort((a, b) => a.t - b.t);
  if (timed.length === 0) {
    return <p className="muted">No finished runs to chart yet. Trigger a job with “Run now” to record one.</p>;
  }
  const t0 = timed[0]!.t;
  const t1 = timed[timed.length - 1]!.t;
  const maxD = Math.max(...timed.map((p) => p.d), 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const points: Point[] = timed.map(({ run, t, d }) => ({
    run,
    x: PAD.left + (t1 === t0 ? plotW / 2 : ((t - t0) / (t1 - t0)) * plotW),
    y: PAD.top + plotH - (d / maxD) * plotH,
  }));
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");

  return (
    <figure className="chart" data-testid="duration-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Durations of ${points.length} runs, longest ${duration(maxD)}`}
      >
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} className="axis" />
        <line x1={PAD.left} y1={PAD.top + plotH} x2={PAD.left + plotW} y2={PAD.top + plotH} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left + plotW} y2={PAD.top} className="gridline" />
        <text x={PAD.left - 6} y={PAD.top + 4} textAnchor="end" className="axis-label">
          {duration(maxD)}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} textAnchor="end" className="axis-label">
          0
        </text>
        <text x={PAD.left} y={HEIGHT - 8} className="axis-label">
          {dateTime(timed[0]!.run.startedAt)}
        </text>
        <text x={PAD.left + plotW} y={HEIGHT - 8} textAnchor="end" className="axis-label">
          {dateTime(timed[timed.length - 1]!.run.startedAt)}
        </text>
        <path d={path} className="chart-line" />
        {points.map((p) => (
          <circle key={p.run.id} cx={p.x} cy={p.y} r={4} className={`chart-point point-${p.run.status}`} data-testid="chart-point">
            <title>{`${p.run.job} · ${p.run.status} · ${duration(p.run.durationMs)} · ${dateTime(p.run.startedAt)}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption className="muted small">
        Duration of the latest {points.length} finished runs{points.length === 1 ? "" : ", oldest left"}. Hover a dot for details.
      </figcaption>
    </figure>
  );
}
