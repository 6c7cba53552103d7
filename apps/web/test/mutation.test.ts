import { describe, expect, it } from "vitest";
import { readOutcome } from "../lib/mutation";
import { safeNextPath } from "../lib/safe-path";

describe("readOutcome", () => {
  it("reads a Success member as its data", () => {
    expect(readOutcome({ __typename: "MutationScalePoolSuccess", data: { podCount: 2 } })).toEqual({ ok: true, data: { podCount: 2 } });
  });

  it("reads an error member as its message and the input it names", () => {
    expect(readOutcome({ __typename: "ValidationError", message: "too many", field: "input.maxPods" })).toEqual({
      ok: false,
      kind: "ValidationError",
      message: "too many",
      field: "maxPods",
    });
  });

  it("treats a missing answer as a failure, not as success", () => {
    expect(readOutcome(null)).toMatchObject({ ok: false, kind: "NoAnswer" });
  });
});

describe("safeNextPath", () => {
  it("follows only same-site paths after sign-in", () => {
    expect(safeNextPath("/cron?job=a")).toBe("/cron?job=a");
    expect(safeNextPath("//evil.example")).toBe("/pools");
    expect(safeNextPath("/\\evil.example")).toBe("/pools");
    expect(safeNextPath("https://evil.example")).toBe("/pools");
    expect(safeNextPath("/sign-in")).toBe("/pools");
    expect(safeNextPath(undefined)).toBe("/pools");
  });
});
