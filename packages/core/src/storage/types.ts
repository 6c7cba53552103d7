import type { Readable } from "node:stream";

export type StorageBackendName = "local" | "minio";

/** What `getMetadata` tells about one stored object. */
export interface ObjectMetadata {
  key: string;
  size: number;
  contentType: string;
  /** Opaque; changes whenever the content changes. MinIO gives an MD5, local disk a stat digest. */
  etag: string;
  lastModified: Date;
}

/** One object in a listing (object stores do not return content types when listing). */
export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/**
 * One page of a listing with "/" as the delimiter: sub-folders as full prefixes ending in "/",
 * then objects. Pages follow the byte order of names, folders and objects together.
 */
export interface ListResult {
  folders: string[];
  objects: ObjectInfo[];
  /** Pass as `after` for the next page; null on the last page. */
  nextAfter: string | null;
}

export interface ListOptions {
  /** Folders plus objects on one page: 1 to 1000 (the default). */
  limit?: number;
  /** Start after this name (a folder "a/b/" or a key), as `nextAfter` gave it. */
  after?: string | null;
}

export const MAX_LIST_PAGE = 1000;

/** Inclusive byte positions, as in an HTTP Range header: {start: 0, end: 99} is the first 100 bytes. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface SaveOptions {
  /** Overrides the service's `maxUploadBytes` for this one upload. */
  maxUploadBytes?: number;
}

export interface SavedObject {
  key: string;
  size: number;
  contentType: string;
  etag: string;
}

/** A share link as the API's `/files/` route receives it. */
export interface ShareLinkRequest {
  /** The request path, e.g. "/files/reports/a%20b.pdf". */
  path: string;
  expires: string | null | undefined;
  /** The object version the link was made for (`v`). */
  version: string | null | undefined;
  signature: string | null | undefined;
}

export interface StorageService {
  readonly backend: StorageBackendName;
  readonly maxUploadBytes: number;
  save(filePath: string, key: string, contentType?: string, options?: SaveOptions): Promise<SavedObject>;
  saveBuffer(buffer: Buffer | Uint8Array, key: string, contentType?: string, options?: SaveOptions): Promise<SavedObject>;
  saveStream(stream: Readable, key: string, contentType?: string, size?: number, options?: SaveOptions): Promise<SavedObject>;
  get(key: string): Promise<Buffer>;
  getStream(key: string, range?: ByteRange): Promise<Readable>;
  /** Succeeds whether or not the object existed. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  getMetadata(key: string): Promise<ObjectMetadata>;
  list(prefix?: string, options?: ListOptions): Promise<ListResult>;
  /** Copies an object with its content type. Throws ObjectNotFoundError, or ObjectExistsError unless `overwrite`. */
  copy(from: string, to: string, options?: { overwrite?: boolean }): Promise<ObjectMetadata>;
  /** Copy, then delete the source: a crash in between leaves both, never neither. */
  move(from: string, to: string, options?: { overwrite?: boolean }): Promise<ObjectMetadata>;
  /** Marks an (empty) folder with a zero-byte `<folder>/.keep` object, as object stores have no folders. */
  createFolder(folder: string): Promise<string>;
  /** The objects below a folder, all levels, up to `limit` (at most MAX_BULK_OBJECTS); `more` when there are others. */
  listUnder(folder: string, limit?: number): Promise<{ keys: string[]; more: boolean }>;
  /** Deletes these keys, all validated before any is deleted (at most MAX_BULK_OBJECTS). Returns how many. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** Deletes every object below the folder, or nothing with TooManyObjectsError past MAX_BULK_OBJECTS. */
  deleteFolder(folder: string): Promise<number>;
  /**
   * A share link: downloads this version of the object without credentials until `expiresIn`
   * seconds from now, through the API's `/files/` route (for every backend).
   */
  getPresignedUrl(key: string, expiresIn: number): Promise<string>;
  /**
   * For the `/files/` route: the key and current metadata of the object a share link names.
   * Throws InvalidSignatureError (malformed, expired, mismatch, superseded: the object changed
   * since), InvalidKeyError, or ObjectNotFoundError (deleted since).
   */
  checkShareLink(request: ShareLinkRequest, now?: Date | number): Promise<{ key: string; metadata: ObjectMetadata }>;
}

/**
 * What each backend implements. Keys, prefixes, ranges and limits reach it already validated;
 * the body of `put` is already counted and cut off at the limit, and erroring it must leave
 * no object behind (and an existing object under the key untouched).
 */
export interface StorageBackend {
  readonly name: StorageBackendName;
  put(key: string, body: Readable, options: { contentType: string; size?: number; limit: number }): Promise<{ etag: string }>;
  /** Throws ObjectNotFoundError or InvalidRangeError. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Throws ObjectNotFoundError. */
  stat(key: string): Promise<ObjectMetadata>;
  remove(key: string): Promise<void>;
  /** Copies `from` (content and content type) to `to`, replacing what is there. Throws ObjectNotFoundError. */
  copy(from: string, to: string): Promise<{ etag: string }>;
  /** `limit` and `after` come validated; `after` lies under `prefix`. */
  list(prefix: string, page: { limit: number; after: string | null }): Promise<ListResult>;
}

/** Where share links point and what signs them; the same for every backend. */
export interface ShareLinkSigning {
  /** The API's public base URL: links are `<base>/files/<key>?...`. */
  publicBaseUrl: string;
  /** Shared by every replica, so any of them verifies a link another made. */
  secret(): Promise<string>;
}
