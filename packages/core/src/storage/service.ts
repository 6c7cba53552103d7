import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { Readable, finished } from "node:stream";
import { InvalidRangeError, InvalidStorageArgumentError, ObjectExistsError, TooManyObjectsError, UploadTooLargeError } from "./errors.js";
import { MAX_BULK_OBJECTS, folderMarkerKey, folderPrefix } from "./folders.js";
import { validateKey, validatePrefix } from "./keys.js";
import { ByteLimit } from "./limit.js";
import { record, statusOf } from "./metrics.js";
import { contentTypeOf } from "./content-type.js";
import { InvalidSignatureError, keyFromFilesPath, objectVersion, signShareLink, verifyShareLinkSignature } from "./signing.js";
import { MAX_LIST_PAGE, type ByteRange, type SaveOptions, type SavedObject, type ShareLinkSigning, type StorageBackend, type StorageService } from "./types.js";

export { DEFAULT_CONTENT_TYPE } from "./content-type.js";
/** S3's own ceiling for presigned URLs (7 days); the local backend keeps to it as well. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Below S3's cap of 1,000 keys per listing, so that each page can ask for one more than it shows. */
const WALK_PAGE = 500;

function positiveInteger(argument: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidStorageArgumentError(argument, "a positive integer", value);
  }
  return value;
}

function checkRange(key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new InvalidRangeError(key, start, end);
  }
}

/**
 * Feeds `source` through a byte counter that fails at the limit. The caller keeps ownership of
 * `source`: on failure it is unpiped, not destroyed, so an HTTP handler can still answer 413.
 */
function limited(source: Readable, limiter: ByteLimit): Readable {
  const stopWatching = finished(source, { writable: false }, (error) => {
    if (error) limiter.destroy(error);
  });
  limiter.once("error", () => source.unpipe(limiter));
  limiter.once("close", () => stopWatching());
  source.pipe(limiter);
  return limiter;
}

/**
 * Wraps a backend with what every backend shares: key validation, the upload limit, the
 * default content type (from the key's name), share links and metrics. Backends never see an
 * unvalidated key.
 */
export function createStorageService(backend: StorageBackend, options: { maxUploadBytes: number; links: ShareLinkSigning }): StorageService {
  const { links } = options;
  const maxUploadBytes = positiveInteger("maxUploadBytes", options.maxUploadBytes);
  const backendName = backend.name;

  async function timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const value = await run();
      record(operation, backendName, "ok", (performance.now() - started) / 1000);
      return value;
    } catch (error) {
      record(operation, backendName, statusOf(error), (performance.now() - started) / 1000);
      throw error;
    }
  }

  function limitFor(saveOptions: SaveOptions | undefined): number {
    return saveOptions?.maxUploadBytes === undefined ? maxUploadBytes : positiveInteger("maxUploadBytes", saveOptions.maxUploadBytes);
  }

  async function put(source: Readable, key: string, contentType: string | undefined, size: number | undefined, limit: number): Promise<SavedObject> {
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw new InvalidStorageArgumentError("size", "a non-negative integer", size);
    }
    if (size !== undefined && size > limit) throw new UploadTooLargeError(key, limit);
    const type = contentType || contentTypeOf(key);
    const limiter = new ByteLimit(key, limit, size);
    try {
      const { etag } = await backend.put(key, limited(source, limiter), { contentType: type, size, limit });
      return { key, size: limiter.bytes, contentType: type, etag };
    } catch (error) {
      // A backend that failed before reading everything (bucket unreachable, disk full) must not
      // leave the caller's stream piped into a counter nobody reads.
      limiter.destroy();
      throw error;
    }
  }

  async function statOrNull(key: string) {
    try {
      return await backend.stat(key);
    } catch (error) {
      if (statusOf(error) === "not_found") return null;
      throw error;
    }
  }

  async function copyObject(from: string, to: string, overwrite: boolean) {
    validateKey(from);
    validateKey(to);
    if (from === to) throw new InvalidStorageArgumentError("to", "a key other than the source's", to);
    await backend.stat(from); // ObjectNotFoundError before anything is written
    if (!overwrite && (await statOrNull(to))) throw new ObjectExistsError(to);
    await backend.copy(from, to);
    return backend.stat(to);
  }

  /** Walks the folder breadth-first, one listing page at a time, stopping past `limit` keys. */
  async function keysUnder(prefix: string, limit: number): Promise<{ keys: string[]; more: boolean }> {
    const keys: string[] = [];
    const folders = [prefix];
    let visited = 0;
    while (folders.length > 0) {
      // Folders are bounded as well: on local disk, empty directories made by hand hold no object.
      if (++visited > limit) return { keys, more: true };
      const folder = folders.shift()!;
      let after: string | null = null;
      do {
        const page = await backend.list(folder, { limit: WALK_PAGE, after });
        keys.push(...page.objects.map((o) => o.key));
        if (keys.length > limit) return { keys: keys.slice(0, limit), more: true };
        folders.push(...page.folders);
        after = page.nextAfter;
      } while (after !== null);
    }
    return { keys, more: false };
  }

  const service: StorageService = {
    backend: backendName,
    maxUploadBytes,

    save(filePath, key, contentType, saveOptions) {
      return timed("save", async () => {
        validateKey(key);
        const limit = limitFor(saveOptions);
        const { size } = await stat(filePath);
        if (size > limit) throw new UploadTooLargeError(key, limit);
        const file = createReadStream(filePath);
        try {
          return await put(file, key, contentType, size, limit);
        } finally {
          file.destroy();
        }
      });
    },

    saveBuffer(buffer, key, contentType, saveOptions) {
      return timed("saveBuffer", async () => {
        validateKey(key);
        const limit = limitFor(saveOptions);
        if (buffer.byteLength > limit) throw new UploadTooLargeError(key, limit);
        return put(Readable.from([Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength)], { objectMode: false }), key, contentType, buffer.byteLength, limit);
      });
    },

    saveStream(stream, key, contentType, size, saveOptions) {
      return timed("saveStream", async () => {
        validateKey(key);
        return put(stream, key, contentType, size, limitFor(saveOptions));
      });
    },

    get(key) {
      return timed("get", async () => {
        validateKey(key);
        const chunks: Buffer[] = [];
        for await (const chunk of await backend.read(key)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      });
    },

    async getStream(key, range) {
      const started = performance.now();
      let stream: Readable;
      try {
        validateKey(key);
        checkRange(key, range);
        stream = await backend.read(key, range);
      } catch (error) {
        record("getStream", backendName, statusOf(error), (performance.now() - started) / 1000);
        throw error;
      }
      // A stream's cost is paid while it is read, so it is measured until its last byte.
      finished(stream, { writable: false }, (error) => {
        const aborted = (error as NodeJS.ErrnoException | undefined)?.code === "ERR_STREAM_PREMATURE_CLOSE";
        const status = !error ? "ok" : aborted ? "aborted" : statusOf(error);
        record("getStream", backendName, status, (performance.now() - started) / 1000);
      });
      return stream;
    },

    delete(key) {
      return timed("delete", async () => {
        validateKey(key);
        await backend.remove(key);
      });
    },

    exists(key) {
      return timed("exists", async () => {
        validateKey(key);
        try {
          await backend.stat(key);
          return true;
        } catch (error) {
          if (statusOf(error) === "not_found") return false;
          throw error;
        }
      });
    },

    getMetadata(key) {
      return timed("getMetadata", async () => {
        validateKey(key);
        return backend.stat(key);
      });
    },

    list(prefix = "", options = {}) {
      return timed("list", async () => {
        const valid = validatePrefix(prefix);
        const limit = options.limit ?? MAX_LIST_PAGE;
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_PAGE) throw new InvalidStorageArgumentError("limit", `a whole number from 1 to ${MAX_LIST_PAGE}`, limit);
        const after = options.after || null;
        if (after !== null && (typeof after !== "string" || !after.startsWith(valid) || after.length > 1024)) {
          throw new InvalidStorageArgumentError("after", "a name under the prefix, as nextAfter gave it", after);
        }
        return backend.list(valid, { limit, after });
      });
    },

    copy(from, to, copyOptions = {}) {
      return timed("copy", () => copyObject(from, to, copyOptions.overwrite ?? false));
    },

    move(from, to, moveOptions = {}) {
      return timed("move", async () => {
        const copied = await copyObject(from, to, moveOptions.overwrite ?? false);
        await backend.remove(from);
        return copied;
      });
    },

    createFolder(folder) {
      return timed("createFolder", async () => {
        const marker = folderMarkerKey(folder);
        if (!(await statOrNull(marker))) await put(Readable.from([Buffer.alloc(0)], { objectMode: false }), marker, undefined, 0, maxUploadBytes);
        return folderPrefix(folder);
      });
    },

    listUnder(folder, limit = MAX_BULK_OBJECTS) {
      return timed("listUnder", async () => {
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_BULK_OBJECTS) throw new InvalidStorageArgumentError("limit", `a whole number from 1 to ${MAX_BULK_OBJECTS}`, limit);
        return keysUnder(folderPrefix(folder), limit);
      });
    },

    deleteMany(keys) {
      return timed("deleteMany", async () => {
        if (!Array.isArray(keys) || keys.length > MAX_BULK_OBJECTS) throw new InvalidStorageArgumentError("keys", `a list of at most ${MAX_BULK_OBJECTS} keys`, Array.isArray(keys) ? keys.length : keys);
        // Every key is checked before the first delete, so a bad one leaves everything in place.
        const valid = [...new Set(keys.map((key) => validateKey(key)))];
        for (const key of valid) await backend.remove(key);
        return valid.length;
      });
    },

    deleteFolder(folder) {
      return timed("deleteFolder", async () => {
        const prefix = folderPrefix(folder);
        const { keys, more } = await keysUnder(prefix, MAX_BULK_OBJECTS);
        if (more) throw new TooManyObjectsError(prefix, MAX_BULK_OBJECTS);
        for (const key of keys) await backend.remove(key);
        return keys.length;
      });
    },

    getPresignedUrl(key, expiresIn) {
      return timed("getPresignedUrl", async () => {
        validateKey(key);
        if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
          throw new InvalidStorageArgumentError("expiresIn", `whole seconds from 1 to ${MAX_PRESIGN_SECONDS}`, expiresIn);
        }
        // A link to nothing is a bug for whoever shares it, so say so now rather than at download.
        const version = objectVersion(await backend.stat(key));
        return signShareLink(links.publicBaseUrl, key, Math.floor(Date.now() / 1000) + expiresIn, version, await links.secret());
      });
    },

    async checkShareLink(request, now = Date.now()) {
      const key = keyFromFilesPath(request.path);
      const check = verifyShareLinkSignature(key, request.expires, request.version, request.signature, await links.secret(), now);
      if (!check.valid) throw new InvalidSignatureError(check.reason);
      const metadata = await backend.stat(key);
      if (objectVersion(metadata) !== request.version) throw new InvalidSignatureError("superseded");
      return { key, metadata };
    },
  };
  return service;
}
