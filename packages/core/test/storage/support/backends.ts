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
  InvalidSignatureError,
  ObjectNotFoundError,
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

/** Every key stored below `prefix`, through listings only: nothing but committed objects is visible. */
export async function allKeys(storage: StorageService, prefix = ""): Promise<string[]> {
  const { folders, objects } = await storage.list(prefix);
  const below = await Promise.all(folders.map((folder) => allKeys(storage, folder)));
  return [...objects.map((o) => o.key), ...below.flat()].sort();
}

/** Lists every file and folder below `dir`, relative to it. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/**
 * A minimal stand-in for the API's `/files/` route, built only from what the storage layer
 * exports: share links of both backends are Berth's own signed links, served by the API.
 */
async function startFilesRoute(getStorage: () => StorageService): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const storage = getStorage();
    try {
      const { key, metadata } = await storage.checkShareLink({
        path: url.pathname,
        expires: url.searchParams.get("expires"),
        version: url.searchParams.get("v"),
        signature: url.searchParams.get("signature"),
      });
      res.writeHead(200, { "content-type": metadata.contentType, "content-length": metadata.size });
      await pipeline(await storage.getStream(key), res);
    } catch (error) {
      const status = error instanceof InvalidSignatureError ? (error.reason === "superseded" ? 410 : 403) : error instanceof ObjectNotFoundError ? 404 : 500;
      res.writeHead(status).end((error as Error).name);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Shared per test file: one s3rver and one files route, started lazily and closed by `closeShared`. */
let s3: Promise<S3Server> | undefined;
const filesRoutes = new Map<StorageBackendName, Promise<{ url: string; server: Server }>>();
const current = new Map<string, StorageService>();

export async function openStorage(backend: StorageBackendName, options: { maxUploadBytes?: number } = {}): Promise<StorageFixture> {
  const maxUploadBytes = options.maxUploadBytes ?? 64 * 1024 * 1024;
  if (backend === "local") {
    const parent = await mkdtemp(join(tmpdir(), "berth-storage-"));
    const root = join(parent, "root");
    await mkdir(root);
    const storage = createLocalStorage({ root, maxUploadBytes, publicBaseUrl: await filesRouteUrl("local") });
    current.set("local", storage);
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
    publicBaseUrl: await filesRouteUrl("minio"),
    signingSecret: "a-secret-for-minio-share-links",
  });
  current.set("minio", storage);
  return { storage, filesOnDisk: () => walk(server.directory), close: async () => {} };
}

/** The stand-in files route of one backend (each has its own, as each API serves its own storage). */
async function filesRouteUrl(backend: StorageBackendName): Promise<string> {
  let route = filesRoutes.get(backend);
  if (!route) {
    route = startFilesRoute(() => {
      const storage = current.get(backend);
      if (!storage) throw new Error(`no ${backend} storage open`);
      return storage;
    });
    filesRoutes.set(backend, route);
  }
  return (await route).url;
}

export async function closeShared(): Promise<void> {
  const server = await s3;
  const routes = await Promise.all(filesRoutes.values());
  s3 = undefined;
  filesRoutes.clear();
  current.clear();
  for (const route of routes) await new Promise((resolve) => route.server.close(resolve));
  await server?.close();
}
