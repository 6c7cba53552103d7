export const OVERLAP_POLICIES = ["skip", "buffer_one", "allow_all", "cancel_other"] as const;
/**
 * What a fire time does while the schedule's previous task is still active: `skip` it,
 * `buffer_one` (run it once the active one ends; at most one waits, later ones are skipped),
 * `allow_all` (run it alongside), `cancel_other` (cancel the active one, run this one).
 */
export type SchedulePolicy = (typeof OVERLAP_POLICIES)[number];

export const isOverlapPolicy = (value: unknown): value is SchedulePolicy => OVERLAP_POLICIES.includes(value as SchedulePolicy);

export type OverlapDecision = { action: "submit"; cancelActive: boolean } | { action: "buffer" } | { action: "skip"; reason: string };

/** The overlap decision for one fire time, given the schedule's active runs and whether one is buffered. Pure. */
export function decideOverlap(policy: SchedulePolicy, state: { active: number; buffered: boolean }): OverlapDecision {
  if (state.active === 0) return { action: "submit", cancelActive: false };
  switch (policy) {
    case "allow_all":
      return { action: "submit", cancelActive: false };
    case "cancel_other":
      return { action: "submit", cancelActive: true };
    case "buffer_one":
      return state.buffered ? { action: "skip", reason: "the previous task is still active and another fire time already waits for it" } : { action: "buffer" };
    case "skip":
      return { action: "skip", reason: "the previous task is still active" };
  }
}
