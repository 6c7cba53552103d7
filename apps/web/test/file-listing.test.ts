import { describe, expect, it } from "vitest";
import { arrangeListing, readArrangement } from "../lib/file-listing";

const object = (key: string, size: number, lastModified: string) => ({ key, size, lastModified, contentType: null, etag: null });
const listing = {
  folders: ["d/zeta/", "d/Alpha/"],
  objects: [object("d/b.txt", 30, "2026-01-02T00:00:00Z"), object("d/a.log", 10, "2026-01-03T00:00:00Z"), object("d/.keep", 0, "2026-01-01T00:00:00Z"), object("d/C.TXT", 20, "2026-01-01T00:00:00Z")],
};

describe("arranging a folder listing", () => {
  it("hides folder markers and sorts by name by default, folders first", () => {
    const arranged = arrangeListing(listing, readArrangement({}));
    expect(arranged.folders).toEqual(["d/Alpha/", "d/zeta/"]);
    expect(arranged.objects.map((o) => o.key)).toEqual(["d/a.log", "d/b.txt", "d/C.TXT"]);
  });

  it("sorts by size or time, either way", () => {
    expect(arrangeListing(listing, readArrangement({ sort: "size", dir: "desc" })).objects.map((o) => o.size)).toEqual([30, 20, 10]);
    expect(arrangeListing(listing, readArrangement({ sort: "modified" })).objects.map((o) => o.key)).toEqual(["d/C.TXT", "d/b.txt", "d/a.log"]);
  });

  it("searches names within the folder, ignoring case; unknown sort values fall back to name", () => {
    const arranged = arrangeListing(listing, readArrangement({ q: " txt ", sort: "owner" }));
    expect(arranged.objects.map((o) => o.key)).toEqual(["d/b.txt", "d/C.TXT"]);
    expect(arranged.folders).toEqual([]);
    expect(arrangeListing(listing, readArrangement({ q: "alp" })).folders).toEqual(["d/Alpha/"]);
  });
});
