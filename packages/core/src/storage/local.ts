import { close, constants, createReadStream, createWriteStream, fstat as fstatCallback, open as openCallback, type BigIntStats } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import { promisify } from "node:util";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InvalidRangeError, KeyConflictError, ObjectNotFoundError } from "./errors.js";
import { RESERVED_FOLDER, validateKey } from "./keys.js";
import { LocalLayout, statEtag } from "./local-layout.js";
import { cutPage } from "./list-page.js";
import { DEFAULT_CONTENT_TYPE } from "./content-type.js";
import { createStorageService } from "./service.js";
import { loadOrCreateSigningSecret } from "./signing.js";
import type { ByteRange, ListResult, ObjectInfo, ObjectMetadata, StorageBackend, StorageService } from "./types.js";

const READ_CHUNK = 1024 * 1024;

const openFd = promisify(openCallback);
const fstat = promisify(fstatCallback);
const closeFd = promisify(close);
const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);
const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? "";

export interface LocalStorageOptions {
  root: string;
  maxUploadBytes: number;
  /** Where the API serves `/files/...`; presigned URLs start with it. */
  publicBaseUrl: string;
  /** If absent, one is generated and kept under the root so that links survive restarts. */
  signingSecret?: string;
}

export interface LocalStorageService extends StorageService {
  readonly backend: "local";
  readonly root: string;
}

export function isLocalStorage(storage: StorageService): storage is LocalStorageService {
  return storage.backend === "local" && "root" in storage;
}

class LocalBackend implements StorageBackend {
  readonly name = "local";
  private readonly ready: Promise<string>;

  constructor(
    readonly layout: LocalLayout,
    signingSecret: string | undefined,
  ) {
    this.ready = layout.prepare().then(() => signingSecret ?? loadOrCreateSigningSecret(layout.internal));
    this.ready.catch(() => {}); // surfaced by the first operation that awaits it
  }

  secret(): Promise<string> {
    return this.ready;
  }

  async put(key: string, body: Readable, options: { contentType: string }): Promise<{ etag: string }> {
    await this.ready;
    const temp = this.layout.tempPath();
    try {
      await pipeline(body, createWriteStream(temp, { flags: "wx", mode: 0o644 }));
      const etag = statEtag(await syncFile(temp));
      await this.layout.writeSidecar(key, options.contentType, etag);
      await this.moveIntoPlace(temp, key);
      return { etag };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private async moveIntoPlace(temp: string, key: string): Promise<void> {
    const target = this.layout.pathOf(key);
    // A concurrent delete may prune the folder between mkdir and rename: try again a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(temp, target);
        return;
      } catch (error) {
        if (code(error) === "ENOENT" && attempt < 3) continue;
        if (["ENOTDIR", "EEXIST", "EISDIR", "ENOTEMPTY"].includes(code(error))) {
          await this.layout.removeSidecar(key);
          throw new KeyConflictError(key, await this.conflictOf(key));
        }
        throw error;
      }
    }
  }

  /** The ancestor that is a file, or the key itself when it is a folder. */
  private async conflictOf(key: string): Promise<string> {
    const segments = key.split("/");
    for (let i = 1; i < segments.length; i++) {
      const ancestor = segments.slice(0, i).join("/");
      const info = await lstat(this.layout.pathOf(ancestor)).catch(() => undefined);
      if (info && !info.isDirectory()) return ancestor;
    }
    return key;
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    await this.ready;
    let fd: number;
    try {
      // O_NOFOLLOW: a symlink placed in the root by hand must not lead outside it.
      fd = await openFd(this.layout.pathOf(key), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (MISSING.has(code(error))) throw new ObjectNotFoundError(key);
      throw error;
    }
    try {
      const stats = await fstat(fd);
      if (!stats.isFile()) throw new ObjectNotFoundError(key);
      if (range && range.start >= stats.size) throw new InvalidRangeError(key, range.start, range.end, stats.size);
      // The open descriptor keeps reading the content it opened even if the key is overwritten
      // meanwhile. (A plain descriptor, not a FileHandle: its stream reads about twice as fast.)
      // Reads of 1 MiB rather than 64 KiB: a sixteenth of the reads and socket writes per file.
      return createReadStream("", { fd, highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: Math.min(range.end, stats.size - 1) } : {}) });
    } catch (error) {
      await closeFd(fd);
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectMetadata> {
    await this.ready;
    const stats = await lstat(this.layout.pathOf(key), { bigint: true }).catch((error) => {
      if (MISSING.has(code(error))) return undefined;
      throw error;
    });
    if (!stats?.isFile()) throw new ObjectNotFoundError(key);
    return {
      key,
      size: Number(stats.size),
      contentType: (await this.layout.readContentType(key, stats)) ?? DEFAULT_CONTENT_TYPE,
      etag: statEtag(stats),
      lastModified: stats.mtime,
    };
  }

  async remove(key: string): Promise<void> {
    await this.ready;
    const path = this.layout.pathOf(key);
    const stats = await lstat(path).catch(() => undefined);
    if (!stats || stats.isDirectory()) return; // nothing stored under this key: deleting is done
    try {
      await unlink(path);
    } catch (error) {
      if (!MISSING.has(code(error))) throw error;
    }
    await this.layout.removeSidecar(key);
    await this.layout.pruneEmptyParents(path);
  }

  async copy(from: string, to: string): Promise<{ etag: string }> {
    const { contentType } = await this.stat(from);
    return this.put(to, await this.read(from), { contentType });
  }

  async list(prefix: string, page: { limit: number; after: string | null }): Promise<ListResult> {
    await this.ready;
    const cut = prefix.lastIndexOf("/") + 1;
    const folderKey = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    const dir = folderKey ? this.layout.pathOf(folderKey.slice(0, -1)) : this.layout.root;
    const entries = await readdir(dir, { withFileTypes: true }).catch((error) => {
      if (MISSING.has(code(error))) return [];
      throw error;
    });
    // Every name of the directory; then one page of them, in the byte order object stores list in.
    const names: { name: string; folder: boolean }[] = [];
    for (const entry of entries) {
      if (!entry.name.startsWith(namePrefix)) continue;
      if (!folderKey && entry.name === RESERVED_FOLDER) continue;
      const key = folderKey + entry.name;
      // Names put there by hand that no key could have are not shown: they could not be read either.
      if (!isValidKey(key)) continue;
      if (entry.isDirectory()) names.push({ name: `${key}/`, folder: true });
      else if (entry.isFile()) names.push({ name: key, folder: false });
    }
    const { shown, nextAfter } = cutPage(names, page);
    const objects = (await Promise.all(shown.filter((n) => !n.folder).map((n) => this.info(n.name)))).filter((o): o is ObjectInfo => o !== undefined);
    return { folders: shown.filter((n) => n.folder).map((n) => n.name), objects, nextAfter };
  }

  private async info(key: string): Promise<ObjectInfo | undefined> {
    const stats = await lstat(this.layout.pathOf(key), { bigint: true }).catch(() => undefined);
    if (!stats?.isFile()) return undefined; // deleted since readdir
    return { key, size: Number(stats.size), etag: statEtag(stats), lastModified: stats.mtime };
  }

}

/**
 * Durable before visible: after a crash the key holds the old or the new content, never a torn
 * file. (fsync flushes the file whichever descriptor asks.)
 */
async function syncFile(path: string): Promise<BigIntStats> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
    return await handle.stat({ bigint: true });
  } finally {
    await handle.close();
  }
}

function isValidKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Storage in a directory: atomic writes (temp file, fsync, rename). Share links are signed with
 * STORAGE_SIGNING_SECRET, or a secret generated and kept in the root (shared by replicas that
 * share the directory).
 */
export function createLocalStorage(options: LocalStorageOptions): LocalStorageService {
  const backend = new LocalBackend(new LocalLayout(options.root), options.signingSecret);
  const service = createStorageService(backend, { maxUploadBytes: options.maxUploadBytes, links: { publicBaseUrl: options.publicBaseUrl, secret: () => backend.secret() } });
  return Object.assign(service, { backend: "local" as const, root: backend.layout.root });
}
