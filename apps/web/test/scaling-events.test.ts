import { describe, expect, it } from "vitest";
import { scalingEventLabel } from "../lib/scaling-events";

describe("scaling event labels", () => {
  it("names every kind the API records in words, never its raw identifier", () => {
    for (const kind of ["scale_up", "scale_down", "scale_down_blocked", "ensure_min", "pod_lost", "reservation_expired", "manual_scale", "policy_override", "pod_drain", "pod_delete"]) {
      expect(scalingEventLabel(kind)).not.toContain("_");
    }
    expect(scalingEventLabel("manual_scale")).toBe("Scaled by hand");
    expect(scalingEventLabel("some_new_kind")).toBe("Some new kind");
  });
});
