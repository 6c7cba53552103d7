import { percent } from "@/lib/format";
import { scalingEventLabel } from "@/lib/scaling-events";
import { Time } from "@/components/time";
import type { ScalingEvent } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";

export function ScalingTimeline({ events }: { events: ScalingEvent[] }) {
  if (events.length === 0) {
    return <EmptyState title="No scaling events yet">The autoscaler records each decision here: scale-ups, scale-downs and what blocked them.</EmptyState>;
  }
  const newestFirst = [...events].sort((a, b) => b.at.localeCompare(a.at));
  return (
    // Scrolls past 420px: focusable, so the keyboard can scroll it too.
    <ol className="timeline" tabIndex={0} aria-label="Scaling events, newest first" data-testid="scaling-timeline">
      {newestFirst.map((event, i) => (
        <li key={`${event.at}-${i}`} className={`timeline-item kind-${event.kind}`} data-testid="scaling-event" data-kind={event.kind}>
          <Time iso={event.at} />
          <div>
            <strong>{scalingEventLabel(event.kind)}</strong>{" "}
            <span className="mono">
              {event.fromPods} → {event.toPods} pods
            </span>
            {event.actor && (
              <span className="muted" data-testid="scaling-actor">
                {" "}
                · by {event.actor}
              </span>
            )}
            {event.utilization != null && <span className="muted"> · utilisation {percent(event.utilization)}</span>}
            {event.reason && <div className="muted small">{event.reason}</div>}
          </div>
        </li>
      ))}
    </ol>
  );
}
