import { compareKeys } from "./keys.js";

/**
 * One page of a listing from the names a backend found: in byte order, after `after`, at most
 * `limit`, and where the next page starts (null when nothing follows). A backend whose store
 * said it had more (`truncated`) than it returned gets a next page even when this one is not full.
 */
export function cutPage<T extends { name: string }>(entries: T[], page: { limit: number; after: string | null }, truncated = false): { shown: T[]; nextAfter: string | null } {
  const rest = entries.filter((e) => page.after === null || compareKeys(e.name, page.after) > 0).sort((a, b) => compareKeys(a.name, b.name));
  const shown = rest.slice(0, page.limit);
  const more = rest.length > page.limit || (truncated && shown.length > 0);
  return { shown, nextAfter: more ? shown.at(-1)!.name : null };
}
