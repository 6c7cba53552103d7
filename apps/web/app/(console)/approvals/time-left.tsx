"use client";

import { useNow } from "@/lib/client/use-now";
import { dateTime, relative } from "@/lib/format";

/** How long the plan's reservation has left, ticking; the absolute expiry on hover. */
export function TimeLeft({ until }: { until: string | null }) {
  const now = useNow(15_000);
  if (!until) return <span className="muted">no reservation</span>;
  const left = now === null ? null : new Date(until).getTime() - now;
  return (
    <time dateTime={until} title={dateTime(until)} className={left !== null && left < 3_600_000 ? "warn-text" : undefined} data-testid="time-left">
      {now === null ? dateTime(until) : left! <= 0 ? "expiring now" : `expires ${relative(until, now)}`}
    </time>
  );
}
