import type { NextRequest } from "next/server";
import { requestGraphQL } from "@/lib/api";
import { apiBaseUrl, TOKEN_COOKIE } from "@/lib/config";
import { ApiAuthError, ApiUnreachableError } from "@/lib/errors";
import { PRESIGNED_URL } from "@/lib/queries";
import { CONSOLE_HEADER, jsonError, relayedResponseHeaders } from "@/lib/proxy-headers";

// Streams a stored object to the browser: the API signs a short-lived link with the operator's
// token, and the body is relayed without being held in memory.

export const dynamic = "force-dynamic";

const RELAYED = ["content-type", "content-length", "etag", "last-modified"] as const;
const PREVIEWABLE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)$/i;

function contentDisposition(kind: "inline" | "attachment", key: string): string {
  const name = key.split("/").pop() || "download";
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export async function GET(request: NextRequest, { params }: { params: Promise<{ key: string[] }> }): Promise<Response> {
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (!token) return jsonError(401, "Not signed in.", "UNAUTHENTICATED");
  const key = (await params).key.join("/");
  const inline = request.nextUrl.searchParams.get("inline") === "1";

  let link: string | null;
  try {
    ({ presignedUrl: link } = await requestGraphQL<{ presignedUrl: string | null }>(token, PRESIGNED_URL, { key, expiresIn: 60 }));
  } catch (error) {
    if (error instanceof ApiAuthError) return jsonError(error.reason === "unauthenticated" ? 401 : 403, error.message, error.reason.toUpperCase());
    if (error instanceof ApiUnreachableError) return jsonError(502, error.message, "API_UNREACHABLE");
    return jsonError(404, error instanceof Error ? error.message : "No such object.", "NOT_FOUND");
  }
  if (!link) return jsonError(404, `No object at ${key}.`, "NOT_FOUND");

  let upstream: Response;
  try {
    upstream = await fetch(new URL(link, `${apiBaseUrl()}/`), { cache: "no-store", signal: request.signal });
  } catch {
    return jsonError(502, "The storage backend did not answer.", "STORAGE_UNREACHABLE");
  }
  if (!upstream.ok || !upstream.body) {
    return jsonError(upstream.status === 404 ? 404 : 502, `Could not read ${key} (${upstream.status}).`, "STORAGE_ERROR");
  }

  const headers = relayedResponseHeaders(upstream.headers, RELAYED);
  const type = headers.get("content-type") ?? "application/octet-stream";
  if (inline) {
    // Stored files are untrusted: previews show images as images and everything else as plain text,
    // so an uploaded page can never run script on the console's origin.
    if (!PREVIEWABLE_IMAGE.test(type.split(";")[0]!.trim())) headers.set("content-type", "text/plain; charset=utf-8");
    headers.set("content-disposition", contentDisposition("inline", key));
  } else {
    headers.set("content-disposition", contentDisposition("attachment", key));
  }
  headers.set("x-content-type-options", "nosniff");
  headers.set("content-security-policy", "sandbox; default-src 'none'; img-src 'self'");
  headers.set("cache-control", "private, no-store");
  return new Response(upstream.body, { status: 200, headers });
}

/**
 * Uploads: the body streams through to the API's `PUT /files/<key>` (never held in memory here or
 * there), with the operator's token. Only the console's own requests are relayed.
 */
export async function PUT(request: NextRequest, { params }: { params: Promise<{ key: string[] }> }): Promise<Response> {
  if (!request.headers.has(CONSOLE_HEADER)) return jsonError(403, "Uploads through the console's proxy must come from the console.", "FORBIDDEN");
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (!token) return jsonError(401, "Not signed in.", "UNAUTHENTICATED");
  const key = (await params).key;
  const target = new URL(`${apiBaseUrl()}/files/${key.map(encodeURIComponent).join("/")}`);
  const headers = new Headers({ authorization: `Bearer ${token}` });
  for (const name of ["content-type", "content-length"]) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  let upstream: Response;
  try {
    upstream = await fetch(target, { method: "PUT", headers, body: request.body, cache: "no-store", signal: request.signal, duplex: "half" } as RequestInit & { duplex: "half" });
  } catch {
    if (request.signal.aborted) return new Response(null, { status: 499 });
    return jsonError(502, `The Berth API did not answer at ${apiBaseUrl()}.`, "API_UNREACHABLE");
  }
  return new Response(upstream.body, { status: upstream.status, headers: relayedResponseHeaders(upstream.headers, ["content-type"]) });
}
