import { Readable } from "node:stream";
import { InvalidKeyError, InvalidStorageArgumentError, KeyConflictError, UploadSizeMismatchError, UploadTooLargeError, keyFromFilesPath } from "@berth/core/storage";
import { audit } from "./audit.js";
import { admit, clientAddress } from "./policy/admission.js";
import type { HttpRoutes } from "./http.js";
import type { Services } from "./services.js";
import { text } from "./files-route.js";
import { chunksOf } from "./streams.js";

const UPLOAD_ROLES = new Set(["admin", "operator"]);



/** The key a path names, or the path as sent when it names none (for the audit log). */
function keyOrPath(path: string): string {
  try {
    return keyFromFilesPath(path);
  } catch {
    return path.replace(/^\/files\//, "").slice(0, 500);
  }
}

/** A declared Content-Length, or undefined when the body is chunked (or the header is not a plain number). */
function declaredLength(request: Request): number | undefined {
  const header = request.headers.get("content-length");
  return header !== null && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
}

/**
 * `PUT /files/<key>` with a Bearer token of role operator or admin: the request body streams
 * into `storage.saveStream`, so memory stays flat whatever the size (GraphQL multipart uploads
 * go through a parsed form instead). Replaces an object already under the key.
 * 401 without a valid token, 403 for other roles, 400 for a key storage refuses,
 * 413 past the upload limit (a declared length over it is refused before reading). The
 * request's Content-Type is ignored: a file's type is that of its name.
 */
export function uploadRoute(services: Services): (request: Request, address?: string) => Promise<Response> {
  return async (request, address = "local") => {
    // Admitted like GraphQL requests: the token's budget, or the address's for a wrong one.
    const admission = await admit(services, request.headers.get("authorization"), address);
    if (!admission.admitted && admission.status === 429) return text(429, admission.error.message, admission.headers);
    if (!admission.admitted) {
      return text(401, request.headers.has("authorization") ? "the token is unknown or revoked" : "a Bearer token is required", { "www-authenticate": "Bearer" });
    }
    const { auth } = admission;
    const path = new URL(request.url).pathname;
    // Recorded like a mutation: who uploaded what (the key as requested), and how it ended.
    const target = keyOrPath(path);
    const record = (outcome: string) => audit(services, auth, "uploadFile", target, outcome);
    if (!UPLOAD_ROLES.has(auth.role)) {
      await record("FORBIDDEN");
      return text(403, `role ${auth.role} may not upload files`);
    }

    const { storage } = services;
    let body: Readable | undefined;
    try {
      const key = keyFromFilesPath(path);
      const size = declaredLength(request);
      if (size !== undefined && size > storage.maxUploadBytes) throw new UploadTooLargeError(key, storage.maxUploadBytes);
      body = request.body ? Readable.from(chunksOf(request.body)) : Readable.from([]);
      // The content type comes from the key's name (storage derives it), never from the uploader.
      const saved = await storage.saveStream(body, key, undefined, size);
      await record("ok");
      return new Response(JSON.stringify(saved), { status: 200, headers: { "content-type": "application/json" } });
    } catch (error) {
      // Stops reading; the server discards what is left of the body once the answer is sent.
      body?.destroy();
      if (error instanceof UploadTooLargeError) return (await record("PAYLOAD_TOO_LARGE"), text(413, error.message));
      if (error instanceof InvalidKeyError || error instanceof UploadSizeMismatchError || error instanceof InvalidStorageArgumentError) {
        return (await record("BAD_USER_INPUT"), text(400, error.message));
      }
      if (error instanceof KeyConflictError) return (await record("CONFLICT"), text(409, error.message));
      await record("INTERNAL_SERVER_ERROR");
      throw error;
    }
  };
}

/** `routes` with PUT /files/<key> going to the upload route; every other method still reaches `routes.files`. */
export function withUploads(services: Services, routes: HttpRoutes = {}): HttpRoutes {
  const upload = uploadRoute(services);
  return {
    ...routes,
    files: (request, fetch, serverContext) => {
      if (request.method === "PUT") return upload(request, clientAddress(serverContext?.req));
      return routes.files ? routes.files(request, fetch) : text(405, "only PUT");
    },
  };
}
