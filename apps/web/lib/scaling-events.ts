// How the pool page names scaling events: every kind the API records reads as words.

const LABELS: Record<string, string> = {
  scale_up: "Scaled up",
  scale_down: "Scaled down",
  scale_down_blocked: "Scale-down blocked",
  ensure_min: "Started minimum pods",
  pod_lost: "Pod lost",
  reservation_expired: "Reservation expired",
  manual_scale: "Scaled by hand",
  policy_override: "Limits overridden by policy",
  pod_drain: "Pod drained by hand",
  pod_delete: "Pod deleted by hand",
  pod_recycle: "Pod recycled",
  schedule_override: "Capacity window in effect",
};

/** "manual_scale" → "Manual scale": a kind without a label of its own still reads as words. */
export function scalingEventLabel(kind: string): string {
  if (LABELS[kind]) return LABELS[kind];
  const words = kind.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
