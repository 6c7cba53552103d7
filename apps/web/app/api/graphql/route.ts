import type { NextRequest } from "next/server";
import { apiBaseUrl, TOKEN_COOKIE } from "@/lib/config";
import { CONSOLE_HEADER, YOGA_CSRF_HEADER, jsonError, relayedResponseHeaders } from "@/lib/proxy-headers";

// Relays the browser's GraphQL traffic (queries, mutations, SSE subscriptions, multipart uploads)
// to the API with the operator's token, so the token never reaches browser code.

export const dynamic = "force-dynamic";

const FORWARDED_REQUEST_HEADERS = ["content-type", "accept"] as const;
const RELAYED_RESPONSE_HEADERS = ["content-type", "cache-control"] as const;

async function relay(request: NextRequest): Promise<Response> {
  if (!request.headers.has(CONSOLE_HEADER)) {
    return jsonError(403, "Requests to the console's API proxy must come from the console.", "FORBIDDEN");
  }
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (!token) return jsonError(401, "Not signed in.", "UNAUTHENTICATED");

  const target = new URL(`${apiBaseUrl()}/graphql`);
  target.search = request.nextUrl.search;

  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  headers.set("authorization", `Bearer ${token}`);
  headers.set(YOGA_CSRF_HEADER, "berth-console");

  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers,
    cache: "no-store",
    signal: request.signal,
  };
  if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
    // Streamed, not buffered: uploads of any size pass through in constant memory.
    init.body = request.body;
    init.duplex = "half";
  }

  let upstream: Response;
  try {
    upstream = await fetch(target, init);
  } catch (error) {
    if (request.signal.aborted) return new Response(null, { status: 499 });
    console.error("graphql proxy: API unreachable", error);
    return jsonError(502, `The Berth API did not answer at ${apiBaseUrl()}.`, "API_UNREACHABLE");
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: relayedResponseHeaders(upstream.headers, RELAYED_RESPONSE_HEADERS),
  });
}

export { relay as GET, relay as POST };
