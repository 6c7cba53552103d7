import { contentTypeOf, InvalidKeyError, InvalidRangeError, InvalidSignatureError, ObjectNotFoundError, type ByteRange } from "@berth/core/storage";
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

/** Types a browser shows without running anything: common raster images and plain text. SVG is not one (it runs script). */
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "text/plain"]);
/**
 * Whatever a stored file holds, it must not act on the API's origin: no script, no form, no
 * plugin, no frame of it may run (`sandbox` gives it an opaque origin), and nothing loads but an
 * image shown inline.
 */
export const FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

function contentDisposition(kind: "inline" | "attachment", key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1) || "download";
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * How a stored file is served: its type from its name (never from whoever uploaded it), inline
 * only for images and plain text, an attachment otherwise; always `nosniff` and the sandboxing CSP.
 */
export function downloadHeaders(key: string): Record<string, string> {
  const type = contentTypeOf(key);
  const inline = INLINE_TYPES.has(type);
  return {
    "content-type": type.startsWith("text/") ? `${type}; charset=utf-8` : type,
    "content-disposition": contentDisposition(inline ? "inline" : "attachment", key),
    "x-content-type-options": "nosniff",
    "content-security-policy": FILE_CSP,
  };
}

/**
 * `GET /files/<key>?expires=…&v=…&signature=…`: share links, of every storage backend. The
 * signature, the expiry and the object's version are checked before anything is read (a link
 * dies with the object it was made for); the file streams out, with byte ranges.
 */
export function fileRoutes(services: Services): HttpRoutes {
  return {
    files: async (request, fetch) => {
      const { storage } = services;
      if (request.method !== "GET" && request.method !== "HEAD") return text(405, "only GET and HEAD");
      const url = new URL(request.url);
      try {
        const { key, metadata: meta } = await storage.checkShareLink({
          path: url.pathname,
          expires: url.searchParams.get("expires"),
          version: url.searchParams.get("v"),
          signature: url.searchParams.get("signature"),
        });
        const range = parseRange(request.headers.get("range"), meta.size);
        if (range === "unsatisfiable") return new Response(null, { status: 416, headers: { "content-range": `bytes */${meta.size}` } });
        const headers = new Headers({
          ...downloadHeaders(key),
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
        if (error instanceof InvalidSignatureError) return text(error.reason === "superseded" ? 410 : 403, `link refused: ${error.message}`);
        if (error instanceof InvalidKeyError) return text(400, error.message);
        if (error instanceof ObjectNotFoundError) return text(404, error.message);
        if (error instanceof InvalidRangeError) return text(416, error.message);
        throw error;
      }
    },
  };
}
