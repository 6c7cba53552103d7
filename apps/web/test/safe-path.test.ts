import { describe, expect, it } from "vitest";
import { safeNextPath } from "../lib/safe-path";

const ORIGIN = "https://console.example";
/** Where a browser goes when the console redirects to `path`: the Location header resolved against the page. */
const landing = (path: string) => new URL(path, `${ORIGIN}/sign-in`);

describe("safeNextPath after sign-in", () => {
  it.each([
    ["a tab after the first slash (next=/%09/evil.example/x, as Next decodes it)", "/\t/evil.example/x"],
    ["a newline after the first slash", "/\n/evil.example/x"],
    ["a dot segment before two slashes (next=/.%2F%2Fevil.example)", "/.//evil.example"],
    ["a dot-dot segment before two slashes", "/a/..//evil.example"],
    ["a backslash after a dot segment", "/./\\evil.example"],
    ["leading spaces", "  //evil.example"],
    ["a scheme-relative path with a tab inside the slashes", "/\t\\evil.example"],
  ])("refuses %s: the browser stays on the console", (_what, next) => {
    const path = safeNextPath(next);
    expect(landing(path).origin).toBe(ORIGIN);
    // And what it returns is a plain path: no second redirect can reinterpret it.
    expect(path).toMatch(/^\/(?![/\\])/);
    expect(path).not.toMatch(/[\t\n\r\\]/);
    // Already normalised: a framework that normalises it again (Next's redirect does) gets the same path.
    const url = landing(path);
    expect(url.pathname + url.search + url.hash).toBe(path);
  });

  it("keeps same-origin paths with their query and fragment", () => {
    expect(safeNextPath("/cron?job=a#runs")).toBe("/cron?job=a#runs");
    expect(safeNextPath("/pools/demo")).toBe("/pools/demo");
    expect(safeNextPath("/files?prefix=a%2Fb%2F")).toBe("/files?prefix=a%2Fb%2F");
  });

  it("sends anything else, and sign-in itself, to the pools", () => {
    for (const next of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "/sign-in?next=/x", "/./sign-in", "", undefined, 7]) {
      expect(safeNextPath(next)).toBe("/pools");
    }
  });
});
