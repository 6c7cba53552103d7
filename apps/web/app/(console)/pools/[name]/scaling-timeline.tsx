import { dateTime, percent } from "@/lib/format";
import type { ScalingEvent } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";

const LABELS: Record<string, string> = {
  scale_up: "Scaled up",
  scale_down: "Scaled down",
  scale_down_blocked: "Scale-down blocked",
  ensure_min: "Started minimum pods",
  pod_lost: "Pod lost",
  reservation_expired: "Reservation expired",
  manual_scale: "Scaled by hand",
  pod_drain: "Pod drained by hand",
  pod_delete: "Pod deleted by hand",
  policy_override: "Pod policy overridden",
};

export function ScalingTimeline({ events }: { events: ScalingEvent[] }) {
  if (events.length === 0) {
    return <EmptyState title="No scaling events yet">The autoscaler records each decision here: scale-ups, scale-downs and what blocked them.</EmptyState>;
  }
  const newestFirst = [...events].sort((a, b) => b.at.localeCompare(a.at));
  return (
    // Focusable: the list scrolls, and keyboard users must be able to scroll it too.
    <ol className="timeline" data-testid="scaling-timeline" tabIndex={0} aria-label="Scaling events, newest first">
      {newestFirst.map((event, i) => (
        <li key={`${event.at}-${i}`} className={`timeline-item kind-${event.kind}`} data-testid="scaling-event" data-kind={event.kind}>
          <time dateTime={event.at}>{dateTime(event.at)}</time>
          <div>
            <strong>{LABELS[event.kind] ?? event.kind}</strong>{" "}
            <span className="mono">
              {event.fromPods} → {event.toPods} pods
            </span>
            {event.utilization != null && <span className="muted"> · utilisation {percent(event.utilization)}</span>}
            {event.reason && <div className="muted small">{event.reason}</div>}
          </div>
        </li>
      ))}
    </ol>
  );
}
