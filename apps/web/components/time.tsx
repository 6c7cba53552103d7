"use client";

import { useNow } from "@/lib/client/use-now";
import { ago, dateTime } from "@/lib/format";

/** Today: the time alone; this year: day and time; else the full date. Seconds only for today. */
function compactLocal(when: Date, now: Date): string {
  if (when.toDateString() === now.toDateString()) return when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (when.getFullYear() === now.getFullYear()) return when.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  return when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * A moment in the reader's own time zone, with how long ago it was; the exact UTC time on hover.
 * The server renders UTC (it does not know the reader's zone); the browser then localises.
 */
export function Time({ iso, testId }: { iso: string | null | undefined; testId?: string }) {
  const now = useNow(30_000);
  if (!iso) return <span>–</span>;
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return <span>{iso}</span>;
  const local = now === null ? dateTime(iso) : compactLocal(when, new Date(now));
  return (
    <time dateTime={iso} title={dateTime(iso)} data-testid={testId}>
      {local}
      {now !== null && <span className="muted"> · {ago(iso, now)}</span>}
    </time>
  );
}
