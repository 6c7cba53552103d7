import { describe, expect, it } from "vitest";
import { inZone, taskHref } from "../app/(console)/schedules/zone-time";

describe("inZone", () => {
  it("shows a time as the wall clock of the schedule's zone, with the zone", () => {
    expect(inZone("2030-03-31T01:00:00Z", "Europe/Berlin")).toBe("2030-03-31 03:00:00 GMT+2");
    expect(inZone("2030-03-30T01:30:00Z", "Europe/Berlin")).toBe("2030-03-30 02:30:00 GMT+1");
    expect(inZone("2030-01-01T00:00:00Z", "UTC")).toBe("2030-01-01 00:00:00 UTC");
  });

  it("falls back to ISO for a zone it does not know, and a dash for nothing", () => {
    expect(inZone("2030-01-01T00:00:00Z", "Nowhere/Else")).toBe("2030-01-01T00:00:00.000Z");
    expect(inZone(null, "UTC")).toBe("–");
  });
});

describe("taskHref", () => {
  it("points at the task's own page", () => {
    expect(taskHref({ id: "t1" })).toBe("/tasks/t1");
    expect(taskHref({ id: "a/b" })).toBe("/tasks/a%2Fb");
  });
});
