// Colours for chart series: distinct at a glance and readable on white (contrast ≥ 3:1 for lines).
export const SERIES_COLOURS = ["#1f4e79", "#1f9d63", "#c2410c", "#7c3aed", "#0e7490", "#b91c1c", "#a16207", "#be185d"];

export const seriesColour = (index: number) => SERIES_COLOURS[index % SERIES_COLOURS.length]!;

/** "14:05" (with seconds over short spans) or, across days, "29 Nov 14:05": labels for a time axis, in the browser's zone. */
export function timeTick(ms: number, spanMs: number): string {
  const d = new Date(ms);
  // Within a quarter of an hour, minutes alone repeat from tick to tick: show seconds too.
  const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(spanMs < 15 * 60_000 ? { second: "2-digit" } : {}), hour12: false });
  return spanMs > 20 * 3_600_000 ? `${d.toLocaleDateString([], { day: "numeric", month: "short" })} ${hm}` : hm;
}

export function timeFull(ms: number): string {
  return new Date(ms).toLocaleString([], { hour12: false });
}
