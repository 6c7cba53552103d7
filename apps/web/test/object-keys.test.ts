import { describe, expect, it } from "vitest";
import { basename, browseHref, crumbs, fileHref, normalizePrefix, previewKind } from "../lib/object-keys";

describe("object keys in the file browser", () => {
  it("turns any prefix into a folder prefix", () => {
    expect(normalizePrefix(undefined)).toBe("");
    expect(normalizePrefix("/a/b")).toBe("a/b/");
    expect(normalizePrefix("a/")).toBe("a/");
  });

  it("builds breadcrumbs that each open their own prefix", () => {
    expect(crumbs("a/b/")).toEqual([
      { label: "Files", prefix: "" },
      { label: "a", prefix: "a/" },
      { label: "b", prefix: "a/b/" },
    ]);
  });

  it("escapes each key segment but keeps the slashes in download links", () => {
    expect(fileHref("reports/q1 #2.txt")).toBe("/api/files/reports/q1%20%232.txt");
    expect(fileHref("a/b.png", true)).toBe("/api/files/a/b.png?inline=1");
    expect(basename("reports/q1.txt")).toBe("q1.txt");
    expect(basename("reports/")).toBe("reports");
  });

  it("keeps folder and preview in the URL", () => {
    expect(browseHref("")).toBe("/files");
    expect(browseHref("a/", "a/x.txt")).toBe("/files?prefix=a%2F&preview=a%2Fx.txt");
    expect(browseHref("a/", undefined, "a/m.txt")).toBe("/files?prefix=a%2F&after=a%2Fm.txt");
  });

  it("previews images and text, and nothing that could run as a page", () => {
    expect(previewKind("x.png", "image/png")).toBe("image");
    expect(previewKind("x.svg", "image/svg+xml")).toBe("none");
    expect(previewKind("plan.tfvars", "application/octet-stream")).toBe("text");
    expect(previewKind("x.json", "application/json; charset=utf-8")).toBe("text");
    expect(previewKind("x.bin", null)).toBe("none");
  });
});
