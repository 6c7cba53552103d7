import { InvalidKeyError, InvalidRangeError, InvalidSignatureError, isLocalStorage, ObjectNotFoundError, type ByteRange } from "@berth/core/storage";
import type { HttpRoutes } from "./http.js";
import type { Services } from "./services.js";

/** A plain-text answer of the file routes. */
export const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` (one range); anything else is served whole. */
function parseRange(header: string | null, size: number): ByteRange | null | "unsatisfiable" {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    return suffix === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start >= size || end < start ? "unsatisfiable" : { start, end };
}

/**
 * `GET /files/<key>?expires=…&signature=…`: the local backend's share links. The signature and
 * expiry are checked before anything is read; the file streams out, with byte ranges.
 */
export function fileRoutes(services: Services): HttpRoutes {
  return {
    files: async (request, fetch) => {
      const { storage } = services;
      if (request.method !== "GET" && request.method !== "HEAD") return text(405, "only GET and HEAD");
      if (!isLocalStorage(storage)) return text(404, "share links of this storage backend are served by the backend itself");
      const url = new URL(request.url);
      try {
        const key = await storage.checkSignedFileUrl({ path: url.pathname, expires: url.searchParams.get("expires"), signature: url.searchParams.get("signature") });
        const meta = await storage.getMetadata(key);
        const range = parseRange(request.headers.get("range"), meta.size);
        if (range === "unsatisfiable") return new Response(null, { status: 416, headers: { "content-range": `bytes */${meta.size}` } });
        const headers = new Headers({
          "content-type": meta.contentType ?? "application/octet-stream",
          "accept-ranges": "bytes",
          "cache-control": "private, no-store",
          ...(meta.etag ? { etag: `"${meta.etag}"` } : {}),
          "content-length": String(range ? range.end - range.start + 1 : meta.size),
          ...(range ? { "content-range": `bytes ${range.start}-${range.end}/${meta.size}` } : {}),
        });
        if (request.method === "HEAD") return new Response(null, { status: range ? 206 : 200, headers });
        // The server's Response takes the file's Node stream and the server pipes it to the socket
        // as it is: converted to a web stream it was read chunk by chunk through promises, at
        // about a third of the disk's speed.
        const body = (await storage.getStream(key, range ?? undefined)) as unknown as BodyInit;
        return new fetch.Response(body, { status: range ? 206 : 200, headers });
      } catch (error) {
        if (error instanceof InvalidSignatureError) return text(403, `link refused: ${error.message}`);
        if (error instanceof InvalidKeyError) return text(400, error.message);
        if (error instanceof ObjectNotFoundError) return text(404, error.message);
        if (error instanceof InvalidRangeError) return text(416, error.message);
        throw error;
      }
    },
  };
}
