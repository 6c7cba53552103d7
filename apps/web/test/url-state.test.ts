import { describe, expect, it } from "vitest";
import { hrefWith, readTaskQuery, toggleStatus, utcTime } from "../lib/url-state";

describe("task list state in the URL", () => {
  it("reads filters, keeps only known statuses, reads datetime-local values as UTC, and prefers `before` over `after`", () => {
    const query = readTaskQuery({ status: "failed,bogus,apply_pending", q: " deploy-1 ", from: "2026-11-29T10:00", type: "", after: "A", before: "B" });
    expect(query).toEqual({ filter: { status: ["failed", "apply_pending"], search: "deploy-1", submittedAfter: "2026-11-29T10:00:00.000Z" }, before: "B", after: undefined });
  });

  it("a fixed pool wins over the URL's", () => {
    expect(readTaskQuery({ pool: "other" }, "web").filter.pool).toBe("web");
  });

  it("builds links that change some keys and keep the others", () => {
    expect(hrefWith("/tasks", { status: "failed", after: "X", range: "1h" }, { after: undefined, before: "Y" })).toBe("/tasks?status=failed&range=1h&before=Y");
    expect(hrefWith("/tasks", {}, { after: undefined })).toBe("/tasks");
  });

  it("toggles a status in and out of the filter", () => {
    expect(toggleStatus(undefined, "failed")).toBe("failed");
    expect(toggleStatus("failed", "running")).toBe("failed,running");
    expect(toggleStatus("failed", "failed")).toBeUndefined();
  });

  it("ignores a time it cannot read", () => {
    expect(utcTime("yesterday")).toBeUndefined();
    expect(utcTime("2026-01-01T00:00:00+01:00")).toBe("2025-12-31T23:00:00.000Z");
  });
});
