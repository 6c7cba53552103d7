import { percent } from "@/lib/format";

interface Props {
  /** Slots running a task (reserved slots are counted apart). */
  busy: number;
  reserved: number;
  total: number;
  utilization?: number | null;
}

/** Running and reserved slots as stacked segments of one bar, with the figure spelled out beside it. */
export function UtilizationBar({ busy, reserved, total, utilization }: Props) {
  const share = (n: number) => (total > 0 ? `${(n / total) * 100}%` : "0%");
  const ratio = utilization ?? (total > 0 ? (busy + reserved) / total : 0);
  return (
    <div className="util">
      <div
        className="util-bar"
        role="meter"
        aria-label="Slot utilisation"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(ratio * 100)}
        aria-valuetext={`${percent(ratio)} of ${total} slots in use`}
      >
        <span className="util-running" style={{ width: share(busy) }} />
        <span className="util-reserved" style={{ width: share(reserved) }} />
      </div>
      <span className="util-figure">{percent(ratio)}</span>
    </div>
  );
}
