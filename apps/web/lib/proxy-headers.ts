// Header rules shared by the Route Handlers that relay API responses to the browser.

/** Browser code marks its proxy requests with this header; a cross-site form or image cannot set it. */
export const CONSOLE_HEADER = "x-berth-console";

/** Graphql-yoga's CSRF prevention wants this header on browser-style requests (multipart included). */
export const YOGA_CSRF_HEADER = "x-graphql-yoga-csrf";

export function isEventStream(contentType: string | null): boolean {
  return contentType?.toLowerCase().includes("text/event-stream") ?? false;
}

/**
 * Headers copied from the API's answer. Encoding and length are left out because fetch has
 * already decoded the body, and hop-by-hop headers never cross a proxy.
 */
export function relayedResponseHeaders(upstream: Headers, names: readonly string[]): Headers {
  const headers = new Headers();
  for (const name of names) {
    const value = upstream.get(name);
    if (value) headers.set(name, value);
  }
  if (isEventStream(upstream.get("content-type"))) {
    // no-transform keeps the server's compression from buffering events; the rest keeps any proxy from holding them.
    headers.set("cache-control", "no-cache, no-transform");
    headers.set("x-accel-buffering", "no");
  }
  return headers;
}

export function jsonError(status: number, message: string, code: string): Response {
  return Response.json({ errors: [{ message, extensions: { code } }] }, { status });
}
