// Any origin would do: it only anchors the resolution and is compared against.
const BASE = "http://console.invalid";

/**
 * Where to go after sign-in: only a path of the console itself. `next` is resolved against the
 * console's origin the way a browser would (tabs and newlines dropped, backslashes as slashes,
 * dot segments removed), must stay on that origin, and is returned in its normalised form, so
 * that no later normalisation (Next's redirect, the browser) can turn it into `//other.host`.
 */
export function safeNextPath(value: unknown, fallback = "/pools"): string {
  if (typeof value !== "string" || !value.startsWith("/")) return fallback;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  // A path that normalises to two leading slashes is another host to whoever reads it next.
  if (/^\/[/\\]/.test(url.pathname)) return fallback;
  if (url.pathname === "/sign-in" || url.pathname.startsWith("/sign-in/")) return fallback;
  return url.pathname + url.search + url.hash;
}
