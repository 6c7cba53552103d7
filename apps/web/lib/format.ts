// Formatting shared by server and client components; pure, no locale surprises in tests.

export function percent(ratio: number | null | undefined): string {
  if (ratio == null || Number.isNaN(ratio)) return "–";
  return `${Math.round(ratio * 100)}%`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function duration(ms: number | null | undefined): string {
  if (ms == null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "in 3 min" / "2 h ago", relative to `now` so callers control the clock. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return "–";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  const abs = Math.abs(diff);
  const text =
    abs < 60_000 ? `${Math.round(abs / 1000)} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** How long ago something happened. A time within a second of now, or a moment ahead of this clock (the server's), is "just now". */
export function ago(iso: string | null | undefined, now: number): string {
  const t = iso ? new Date(iso).getTime() : NaN;
  if (!Number.isNaN(t) && t > now - 1000) return "just now";
  return relative(iso, now);
}

/** Seconds as the largest whole unit that fits, for durations configured in seconds. */
export function seconds(s: number | null | undefined): string {
  if (s == null) return "–";
  if (s % 86400 === 0 && s > 0) return `${s / 86400} d`;
  if (s % 3600 === 0 && s > 0) return `${s / 3600} h`;
  if (s % 60 === 0 && s > 0) return `${s / 60} min`;
  return `${s} s`;
}

/**
 * A pod's heartbeat for people: "heartbeat 5 s ago", or "never" when no real heartbeat is known
 * (none yet, or a stamp from before the pod existed, such as the epoch, which no agent can send).
 */
export function heartbeat(pod: { createdAt: string; lastHeartbeatAt: string | null; phase: string }, now: number | null): string {
  const beat = pod.lastHeartbeatAt ? Date.parse(pod.lastHeartbeatAt) : NaN;
  const created = Date.parse(pod.createdAt);
  const real = !Number.isNaN(beat) && (Number.isNaN(created) || beat >= created - 60_000);
  const prefix = pod.phase === "Lost" ? "last heartbeat" : "heartbeat";
  if (!real) return pod.phase === "Lost" ? "no heartbeat ever" : "no heartbeat yet";
  return `${prefix} ${now ? ago(pod.lastHeartbeatAt, now) : dateTime(pod.lastHeartbeatAt)}`;
}

/** "web-1a2b3 #2": where a task runs, or ran once it has ended (the task keeps the pod's name). */
export function taskPlace(task: { podName?: string | null; slotIndex?: number | null; pod?: { name: string } | null; slot?: { index: number } | null }): string {
  const pod = task.pod?.name ?? task.podName;
  if (!pod) return "–";
  const index = task.slot?.index ?? task.slotIndex;
  return index == null ? pod : `${pod} #${index}`;
}
