// Times shown in a schedule's own time zone, with the zone's abbreviation or offset, so that a
// 02:30 Berlin schedule reads 02:30 whatever the viewer's zone.

export function inZone(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZoneName: "short",
      })
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
  } catch {
    return d.toISOString();
  }
}

/** A task's own page: its timeline, output and live log. */
export function taskHref(task: { id: string }): string {
  return `/tasks/${encodeURIComponent(task.id)}`;
}
