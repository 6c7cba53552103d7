import { lstat, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidSignatureError,
  KeyConflictError,
  ObjectNotFoundError,
  createLocalStorage,
  createStorage,
  isLocalStorage,
  type LocalStorageService,
} from "../../src/storage/index.js";
import { loadConfig } from "../../src/cluster/index.js";
import { text } from "./support/streams.js";

const BASE = "http://127.0.0.1:4000";
let parent: string;
let root: string;
let storage: LocalStorageService;

const open = (options: { signingSecret?: string } = {}) =>
  createLocalStorage({ root, maxUploadBytes: 1024 * 1024, publicBaseUrl: BASE, ...options });

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "berth-local-"));
  root = join(parent, "root");
  storage = open();
  await storage.list(""); // the root is laid out in the background: let it finish before the test removes it
});
afterEach(() => rm(parent, { recursive: true, force: true }));

describe("local storage on disk", () => {
  it("writes through a temp file in the hidden folder, which list never shows", async () => {
    const source = new PassThrough();
    const saving = storage.saveStream(source, "docs/big.bin");
    source.write(Buffer.alloc(4096, 1));
    // Half-way: the bytes are on disk, but only as a temp file (waited for: at most 5 s).
    const tmp = join(root, ".berth-storage", "tmp");
    for (let i = 0; i < 250 && (await readdir(tmp)).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await readdir(tmp)).toHaveLength(1);
    expect(await storage.exists("docs/big.bin")).toBe(false);
    expect(await storage.list("")).toEqual({ folders: [], objects: [], nextAfter: null });
    source.end(Buffer.alloc(4096, 2));
    await saving;
    expect(await readdir(tmp)).toEqual([]);
    expect((await storage.getMetadata("docs/big.bin")).size).toBe(8192);
    expect((await storage.list("")).folders).toEqual(["docs/"]);
  });

  it("a reader that opened the object before an overwrite keeps reading the old content", async () => {
    await storage.saveBuffer(Buffer.from("old ".repeat(50_000)), "doc");
    const reading = await storage.getStream("doc");
    await storage.saveBuffer(Buffer.from("new"), "doc");
    expect(await text(reading)).toBe("old ".repeat(50_000));
    expect((await storage.get("doc")).toString()).toBe("new");
  });

  it("concurrent writes to one key leave one of them whole", async () => {
    const bodies = ["a", "b", "c", "d"].map((c) => Buffer.alloc(200_000, c));
    await Promise.all(bodies.map((body) => storage.saveBuffer(body, "same")));
    const stored = await storage.get("same");
    expect(bodies.some((body) => body.equals(stored))).toBe(true);
    expect(await readdir(join(root, ".berth-storage", "tmp"))).toEqual([]);
  });

  it("a key cannot be both an object and a folder (KeyConflictError), and the refused write leaves nothing", async () => {
    await storage.saveBuffer(Buffer.from("file"), "a");
    const under = await storage.saveBuffer(Buffer.from("x"), "a/b").catch((e: unknown) => e);
    expect(under).toBeInstanceOf(KeyConflictError);
    expect(under).toMatchObject({ key: "a/b", conflictsWith: "a" });
    await storage.saveBuffer(Buffer.from("x"), "dir/file");
    const over = await storage.saveBuffer(Buffer.from("x"), "dir").catch((e: unknown) => e);
    expect(over).toMatchObject({ name: "KeyConflictError", key: "dir", conflictsWith: "dir" });
    expect((await storage.get("a")).toString()).toBe("file");
    expect(await readdir(join(root, ".berth-storage", "tmp"))).toEqual([]);
  });

  it("content types survive a restart", async () => {
    await storage.saveBuffer(Buffer.from("{}"), "cfg/app.json", "application/json");
    const reopened = open();
    expect((await reopened.getMetadata("cfg/app.json")).contentType).toBe("application/json");
  });

  it("a file replaced by hand does not borrow the content type written for the old one", async () => {
    await storage.saveBuffer(Buffer.from("<svg/>"), "pic", "image/svg+xml");
    await rm(join(root, "pic"));
    await writeFile(join(root, "pic"), "plain bytes");
    expect((await storage.getMetadata("pic")).contentType).toBe("application/octet-stream");
  });

  it("delete prunes folders it empties, never the root", async () => {
    await storage.saveBuffer(Buffer.from("x"), "a/b/c/d.txt");
    await storage.saveBuffer(Buffer.from("x"), "a/keep.txt");
    await storage.delete("a/b/c/d.txt");
    expect(await readdir(join(root, "a"))).toEqual(["keep.txt"]);
    await storage.delete("a/keep.txt");
    expect((await readdir(root)).sort()).toEqual([".berth-storage"]);
  });

  it("files that no valid key could name, and symlinks, are neither listed nor read", async () => {
    await storage.saveBuffer(Buffer.from("x"), "ok.txt");
    await writeFile(join(root, "back\\slash"), "x");
    await writeFile(join(parent, "outside.txt"), "outside");
    await symlink(join(parent, "outside.txt"), join(root, "link.txt"));
    await symlink(parent, join(root, "linkdir"));
    const listing = await storage.list("");
    expect(listing.objects.map((o) => o.key)).toEqual(["ok.txt"]);
    expect(listing.folders).toEqual([]);
    await expect(storage.get("link.txt")).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await storage.exists("link.txt")).toBe(false);
  });

  it("sweeps temp files left by a crash long ago, and keeps recent ones", async () => {
    await storage.list(""); // let the layout be created
    const tmp = join(root, ".berth-storage", "tmp");
    await writeFile(join(tmp, "old"), "x");
    await writeFile(join(tmp, "recent"), "x");
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(join(tmp, "old"), twoDaysAgo, twoDaysAgo);
    await open().list("");
    expect(await readdir(tmp)).toEqual(["recent"]);
  });
});

describe("local signing secret", () => {
  it("is generated once, kept in the hidden folder, and reused after a restart", async () => {
    await storage.saveBuffer(Buffer.from("x"), "f");
    const url = await storage.getPresignedUrl("f", 600);
    const secretFile = join(root, ".berth-storage", "signing-secret");
    expect((await readFile(secretFile, "utf8")).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await lstat(secretFile)).mode & 0o077).toBe(0);
    const restarted = open();
    const { pathname, searchParams } = new URL(url);
    const request = { path: pathname, expires: searchParams.get("expires"), version: searchParams.get("v"), signature: searchParams.get("signature") };
    expect((await restarted.checkShareLink(request)).key).toBe("f");
  });

  it("processes starting together agree on one secret", async () => {
    const instances = [open(), open(), open(), open()];
    await Promise.all(instances.map((s) => s.saveBuffer(Buffer.from("x"), "f")));
    const url = await instances[0]!.getPresignedUrl("f", 600);
    const { pathname, searchParams } = new URL(url);
    const request = { path: pathname, expires: searchParams.get("expires"), version: searchParams.get("v"), signature: searchParams.get("signature") };
    for (const instance of instances) expect((await instance.checkShareLink(request)).key).toBe("f");
    expect((await readdir(join(root, ".berth-storage"))).filter((n) => n.startsWith("signing-secret"))).toEqual(["signing-secret"]);
  });

  it("a configured secret is used instead, and links signed with another secret are refused", async () => {
    const configured = open({ signingSecret: "configured-secret-0123456789" });
    await configured.saveBuffer(Buffer.from("x"), "f");
    const { pathname, searchParams } = new URL(await configured.getPresignedUrl("f", 600));
    const request = { path: pathname, expires: searchParams.get("expires"), version: searchParams.get("v"), signature: searchParams.get("signature") };
    expect((await configured.checkShareLink(request)).key).toBe("f");
    const error = await storage.checkShareLink(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSignatureError);
    expect(error).toMatchObject({ reason: "mismatch" });
  });

  it("an expired link is refused as expired", async () => {
    await storage.saveBuffer(Buffer.from("x"), "f");
    const { pathname, searchParams } = new URL(await storage.getPresignedUrl("f", 60));
    const request = { path: pathname, expires: searchParams.get("expires"), version: searchParams.get("v"), signature: searchParams.get("signature") };
    await expect(storage.checkShareLink(request, Date.now() + 61_000)).rejects.toMatchObject({ reason: "expired" });
  });
});

describe("createStorage", () => {
  it("builds local storage from loadConfig().storage", async () => {
    const config = loadConfig({ LOCAL_STORAGE_PATH: root, STORAGE_MAX_UPLOAD_BYTES: "1234" }, parent);
    const made = createStorage(config.storage, { publicBaseUrl: BASE });
    expect(isLocalStorage(made)).toBe(true);
    expect(made.maxUploadBytes).toBe(1234);
    await made.saveBuffer(Buffer.from("x"), "k");
    expect((await readdir(root)).sort()).toEqual([".berth-storage", "k"]);
  });

  it("builds MinIO storage when STORAGE_TYPE=minio", () => {
    const config = loadConfig({ STORAGE_TYPE: "minio", MINIO_ACCESS_KEY: "a", MINIO_SECRET_KEY: "b" }, parent);
    const made = createStorage(config.storage, { publicBaseUrl: BASE });
    expect(made.backend).toBe("minio");
    expect(isLocalStorage(made)).toBe(false);
  });

  it("refuses a hand-built minio config without credentials", () => {
    const config = loadConfig({}, parent);
    expect(() => createStorage({ ...config.storage, type: "minio" }, { publicBaseUrl: BASE })).toThrow(/accessKey/);
  });
});

