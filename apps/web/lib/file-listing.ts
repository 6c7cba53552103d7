// How the file browser arranges one listing page: search, sort, and the folder markers hidden.
import type { ObjectListing, StoredObject } from "./types";
import { basename } from "./object-keys";

/** The zero-byte object that keeps an empty folder (see the storage layer's createFolder). */
export const FOLDER_MARKER = ".keep";

export type SortColumn = "name" | "size" | "modified";
export type SortDirection = "asc" | "desc";

export interface Arrangement {
  q?: string;
  sort: SortColumn;
  dir: SortDirection;
}

export function readArrangement(params: { q?: string; sort?: string; dir?: string }): Arrangement {
  const sort: SortColumn = params.sort === "size" || params.sort === "modified" ? params.sort : "name";
  const dir: SortDirection = params.dir === "desc" ? "desc" : "asc";
  const q = params.q?.trim().slice(0, 200) || undefined;
  return { q, sort, dir };
}

function compareObjects(a: StoredObject, b: StoredObject, sort: SortColumn): number {
  if (sort === "size") return a.size - b.size || a.key.localeCompare(b.key);
  if (sort === "modified") return (a.lastModified ?? "").localeCompare(b.lastModified ?? "") || a.key.localeCompare(b.key);
  return a.key.localeCompare(b.key);
}

/** Folders first (by name), then objects in the chosen order; names matched case-insensitively by `q`. */
export function arrangeListing(listing: Pick<ObjectListing, "folders" | "objects">, arrangement: Arrangement): { folders: string[]; objects: StoredObject[] } {
  const needle = arrangement.q?.toLowerCase();
  const matches = (name: string) => !needle || name.toLowerCase().includes(needle);
  const sign = arrangement.dir === "desc" ? -1 : 1;
  const folders = listing.folders.filter((f) => matches(basename(f))).sort((a, b) => (arrangement.sort === "name" ? sign : 1) * a.localeCompare(b));
  const objects = listing.objects
    .filter((o) => basename(o.key) !== FOLDER_MARKER && matches(basename(o.key)))
    .sort((a, b) => sign * compareObjects(a, b, arrangement.sort));
  return { folders, objects };
}

/** The share-link lifetimes offered; 7 days is the most a link may live. */
export const SHARE_EXPIRIES = [
  { seconds: 15 * 60, label: "15 min" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 7 * 86_400, label: "7 days" },
] as const;

/** The browser's URL for a folder with this arrangement; `after` pages on. */
export function listHref(prefix: string, arrangement: Arrangement, extra: { after?: string | null; preview?: string } = {}): string {
  const params = new URLSearchParams();
  if (prefix) params.set("prefix", prefix);
  if (arrangement.q) params.set("q", arrangement.q);
  if (arrangement.sort !== "name") params.set("sort", arrangement.sort);
  if (arrangement.dir !== "asc") params.set("dir", arrangement.dir);
  if (extra.preview) params.set("preview", extra.preview);
  if (extra.after) params.set("after", extra.after);
  const q = params.toString();
  return q ? `/files?${q}` : "/files";
}

/** A column heading's link: the same column again flips the direction. */
export function sortHref(prefix: string, arrangement: Arrangement, column: SortColumn): string {
  const dir: SortDirection = arrangement.sort === column && arrangement.dir === "asc" ? "desc" : "asc";
  return listHref(prefix, { ...arrangement, sort: column, dir });
}
