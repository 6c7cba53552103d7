import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { BigIntStats } from "node:fs";
import { RESERVED_FOLDER } from "./keys.js";

/** Temp files older than this are left over from a crash (an upload in progress keeps its file fresh). */
const STALE_TEMP_MS = 24 * 3600 * 1000;

interface Sidecar {
  contentType: string;
  /**
   * The stat etag (inode, size, mtime) of the file the content type was written for. A mismatch
   * means the pair was torn (a crash or a race between two writers) or the file was replaced by
   * hand, possibly on a reused inode: the content type is then unknown rather than wrong.
   */
  etag: string;
}

/**
 * Where the local backend keeps things under its root:
 *   <root>/<key>                                  the object's bytes
 *   <root>/.berth-storage/tmp/<uuid>              uploads in progress, renamed into place when complete
 *   <root>/.berth-storage/meta/<h2>/<sha256>.json the content type, named by the key's hash so
 *                                                 that any valid key fits within file name limits
 *   <root>/.berth-storage/signing-secret          see signing.ts
 */
export class LocalLayout {
  readonly root: string;
  readonly internal: string;
  readonly tmp: string;
  readonly meta: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.internal = join(this.root, RESERVED_FOLDER);
    this.tmp = join(this.internal, "tmp");
    this.meta = join(this.internal, "meta");
  }

  async prepare(now = Date.now()): Promise<void> {
    await mkdir(this.tmp, { recursive: true });
    await mkdir(this.meta, { recursive: true });
    for (const name of await readdir(this.tmp)) {
      const file = join(this.tmp, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
    }
  }

  /** The file of a validated key; the containment check is a second line behind validateKey. */
  pathOf(key: string): string {
    const path = join(this.root, ...key.split("/"));
    if (!path.startsWith(this.root + sep)) throw new Error(`key ${JSON.stringify(key)} resolves outside the storage root`);
    return path;
  }

  tempPath(): string {
    return join(this.tmp, randomUUID());
  }

  private sidecarPath(key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return join(this.meta, hash.slice(0, 2), `${hash}.json`);
  }

  async writeSidecar(key: string, contentType: string, etag: string): Promise<void> {
    const target = this.sidecarPath(key);
    const aside = this.tempPath();
    await writeFile(aside, JSON.stringify({ contentType, etag } satisfies Sidecar));
    await mkdir(dirname(target), { recursive: true });
    await rename(aside, target).catch(async (error) => {
      await rm(aside, { force: true });
      throw error;
    });
  }

  /** The content type stored for this very file, or undefined if none was (or it belongs to another write). */
  async readContentType(key: string, stats: BigIntStats): Promise<string | undefined> {
    try {
      const sidecar = JSON.parse(await readFile(this.sidecarPath(key), "utf8")) as Partial<Sidecar>;
      return sidecar.etag === statEtag(stats) && typeof sidecar.contentType === "string" ? sidecar.contentType : undefined;
    } catch {
      return undefined;
    }
  }

  async removeSidecar(key: string): Promise<void> {
    await rm(this.sidecarPath(key), { force: true });
  }

  /** Removes the now-empty folders above a deleted file, as an object store has no empty folders. */
  async pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): the folders above are not empty either
      }
    }
  }
}

/** An etag that changes with the content without reading it: inode, size and modification time. */
export function statEtag(stats: BigIntStats): string {
  return createHash("sha256").update(`${stats.ino}:${stats.size}:${stats.mtimeNs}`).digest("hex").slice(0, 32);
}
