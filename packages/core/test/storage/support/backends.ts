import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  createLocalStorage,
  createMinioStorage,
  isLocalStorage,
  type StorageBackendName,
  type StorageService,
} from "../../../src/storage/index.js";
import { S3RVER_KEYS, startS3Server, type S3Server } from "./s3.js";

export const backendNames: StorageBackendName[] = ["local", "minio"];

export interface StorageFixture {
  storage: StorageService;
  /** Every file below the directory that holds the data (local: the root's parent; minio: s3rver's data). */
  filesOnDisk(): Promise<string[]>;
  close(): Promise<void>;
}

/** Lists every file and folder below `dir`, relative to it. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/**
 * A minimal stand-in for the API's `/files/` route, built only from what the storage layer
 * exports, so that local presigned URLs can be fetched like MinIO's.
 */
async function startFilesRoute(getStorage: () => StorageService): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const storage = getStorage();
    try {
      if (!isLocalStorage(storage)) throw new Error("not local");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const key = await storage.checkSignedFileUrl({
        path: url.pathname,
        expires: url.searchParams.get("expires"),
        signature: url.searchParams.get("signature"),
      });
      const meta = await storage.getMetadata(key);
      res.writeHead(200, { "content-type": meta.contentType, "content-length": meta.size });
      await pipeline(await storage.getStream(key), res);
    } catch (error) {
      res.writeHead(403).end((error as Error).name);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Shared per test file: one s3rver and one files route, started lazily and closed by `closeShared`. */
let s3: Promise<S3Server> | undefined;
let filesRoute: Promise<{ url: string; server: Server }> | undefined;
let currentLocal: StorageService | undefined;

export async function openStorage(backend: StorageBackendName, options: { maxUploadBytes?: number } = {}): Promise<StorageFixture> {
  const maxUploadBytes = options.maxUploadBytes ?? 64 * 1024 * 1024;
  if (backend === "local") {
    const parent = await mkdtemp(join(tmpdir(), "berth-storage-"));
    const root = join(parent, "root");
    await mkdir(root);
    filesRoute ??= startFilesRoute(() => {
      if (!currentLocal) throw new Error("no local storage open");
      return currentLocal;
    });
    const storage = createLocalStorage({ root, maxUploadBytes, publicBaseUrl: (await filesRoute).url });
    currentLocal = storage;
    return { storage, filesOnDisk: () => walk(parent), close: () => rm(parent, { recursive: true, force: true }) };
  }
  s3 ??= startS3Server();
  const server = await s3;
  const storage = createMinioStorage({
    endPoint: server.endPoint,
    port: server.port,
    useSSL: false,
    ...S3RVER_KEYS,
    bucket: `t-${randomBytes(6).toString("hex")}`,
    maxUploadBytes,
  });
  return { storage, filesOnDisk: () => walk(server.directory), close: async () => {} };
}

export async function closeShared(): Promise<void> {
  const [server, route] = await Promise.all([s3, filesRoute]);
  s3 = filesRoute = currentLocal = undefined;
  if (route) await new Promise((resolve) => route.server.close(resolve));
  await server?.close();
}
