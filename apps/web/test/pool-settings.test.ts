import { describe, expect, it } from "vitest";
import { displayValue, parseSetting, POOL_SETTINGS, SettingInputError } from "../lib/pool-settings";

const setting = (name: string) => POOL_SETTINGS.find((s) => s.name === name)!;

describe("pool settings", () => {
  it("lists every field of the API's UpdatePoolInput once", () => {
    const names = POOL_SETTINGS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["minPods", "maxPods", "scaleUpAt", "scaleDownAt", "taskTimeoutSeconds", "podTemplate", "podPolicyOverride"]));
  });

  it("shows and accepts percentages as 80, not 0.8", () => {
    expect(displayValue(setting("scaleUpAt"), 0.8)).toBe("80");
    expect(displayValue(setting("scaleDownAt"), 0.155)).toBe("15.5");
    expect(parseSetting(setting("scaleUpAt"), "80")).toBe(0.8);
    expect(parseSetting(setting("scaleUpAt"), "80 %")).toBe(0.8);
    expect(parseSetting(setting("scaleUpAt"), "15.5%")).toBe(0.155);
    expect(() => parseSetting(setting("scaleUpAt"), "lots")).toThrow(SettingInputError);
  });

  it("sends null only where empty means something (no task deadline); elsewhere empty leaves it alone", () => {
    expect(parseSetting(setting("taskTimeoutSeconds"), "")).toBeNull();
    expect(parseSetting(setting("image"), "")).toBeUndefined();
    expect(parseSetting(setting("minPods"), " 3 ")).toBe(3);
    expect(() => parseSetting(setting("minPods"), "2.5")).toThrow("Min pods must be a whole number.");
    expect(parseSetting(setting("podTemplate"), '{"spec":{}}')).toEqual({ spec: {} });
    expect(() => parseSetting(setting("podTemplate"), "{")).toThrow(/must be JSON/);
  });
});
