import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidRangeError,
  InvalidStorageArgumentError,
  ObjectNotFoundError,
  UploadSizeMismatchError,
  UploadTooLargeError,
  type StorageService,
} from "../../src/storage/index.js";
import { registry } from "../../src/metrics/index.js";
import { allKeys, backendNames, closeShared, openStorage, type StorageFixture } from "./support/backends.js";
import { collect, generated, text } from "./support/streams.js";

afterAll(closeShared);

async function counterValue(labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric("storage_operations_total")?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}

describe.each(backendNames)("%s storage contract", (backend) => {
  let fixture: StorageFixture;
  let storage: StorageService;

  beforeEach(async () => {
    fixture = await openStorage(backend, { maxUploadBytes: 1024 * 1024 });
    storage = fixture.storage;
  });
  afterEach(() => fixture.close());

  /** Nothing but committed objects is visible: no temp files, no half-written objects. */
  const everything = (prefix = "") => allKeys(storage, prefix);

  describe("writing and reading", () => {
    it("saveBuffer stores bytes that get returns unchanged, with their metadata", async () => {
      const before = Date.now();
      const saved = await storage.saveBuffer(Buffer.from("hello world"), "docs/hello.txt", "text/plain");
      expect(saved).toMatchObject({ key: "docs/hello.txt", size: 11, contentType: "text/plain" });
      expect((await storage.get("docs/hello.txt")).toString()).toBe("hello world");
      const meta = await storage.getMetadata("docs/hello.txt");
      expect(meta).toMatchObject({ key: "docs/hello.txt", size: 11, contentType: "text/plain" });
      expect(meta.etag).toMatch(/^[0-9a-f]{16,}$/);
      expect(meta.etag).toBe(saved.etag);
      // S3 reports whole seconds.
      expect(meta.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(meta.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it("stores application/octet-stream when no content type is given", async () => {
      await storage.saveBuffer(Buffer.from("x"), "blob");
      expect((await storage.getMetadata("blob")).contentType).toBe("application/octet-stream");
    });

    it("save copies a file from disk", async () => {
      const dir = await mkdtemp(join(tmpdir(), "berth-src-"));
      try {
        await writeFile(join(dir, "report.csv"), "a,b\n1,2\n");
        const saved = await storage.save(join(dir, "report.csv"), "reports/2024.csv", "text/csv");
        expect(saved.size).toBe(8);
        expect((await storage.get("reports/2024.csv")).toString()).toBe("a,b\n1,2\n");
        expect((await storage.getMetadata("reports/2024.csv")).contentType).toBe("text/csv");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("saveStream stores a multi-chunk stream whose size is unknown, and one whose size is announced", async () => {
      const unknown = await storage.saveStream(generated(300_000, { chunk: 7000 }), "s/unknown.bin");
      expect(unknown.size).toBe(300_000);
      const announced = await storage.saveStream(generated(300_000), "s/announced.bin", "application/x-test", 300_000);
      expect(announced.size).toBe(300_000);
      expect((await storage.get("s/unknown.bin")).equals(await collect(generated(300_000, { chunk: 7000 })))).toBe(true);
      expect((await storage.get("s/announced.bin")).equals(await collect(generated(300_000)))).toBe(true);
      expect((await storage.getMetadata("s/announced.bin")).size).toBe(300_000);
    });

    it("stores an empty object", async () => {
      await storage.saveBuffer(Buffer.alloc(0), "empty");
      expect((await storage.get("empty")).length).toBe(0);
      expect((await storage.getMetadata("empty")).size).toBe(0);
    });

    it.each(["with space.txt", "ünïcødé/日本語.txt", "a+b=c&d.txt", "100%.txt", "hash#and?query.txt", "..hidden", "a..b/c"])(
      "round-trips the key %j through save, get, list and delete",
      async (key) => {
        await storage.saveBuffer(Buffer.from(key), key);
        expect((await storage.get(key)).toString()).toBe(key);
        expect(await everything()).toEqual([key]);
        await storage.delete(key);
        expect(await storage.exists(key)).toBe(false);
      },
    );
  });

  describe("byte ranges", () => {
    beforeEach(async () => {
      await storage.saveBuffer(Buffer.from("0123456789"), "digits");
    });

    it.each([
      [{ start: 0, end: 0 }, "0"],
      [{ start: 2, end: 5 }, "2345"],
      [{ start: 9, end: 9 }, "9"],
      [{ start: 7, end: 1000 }, "789"],
      [{ start: 0, end: 9 }, "0123456789"],
    ])("getStream(%j) returns exactly those bytes", async (range, expected) => {
      expect(await text(await storage.getStream("digits", range))).toBe(expected);
    });

    it("a range starting at or past the end is an InvalidRangeError carrying the size", async () => {
      const error = await storage.getStream("digits", { start: 10, end: 20 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidRangeError);
      expect(error).toMatchObject({ key: "digits", start: 10, end: 20, size: 10 });
    });

    it.each([
      { start: 5, end: 4 },
      { start: -1, end: 3 },
      { start: 1.5, end: 3 },
    ])("a malformed range %j is refused before reading", async (range) => {
      await expect(storage.getStream("digits", range)).rejects.toBeInstanceOf(InvalidRangeError);
    });

    it("getStream without a range streams the whole object", async () => {
      expect(await text(await storage.getStream("digits"))).toBe("0123456789");
    });
  });

  describe("listing", () => {
    beforeEach(async () => {
      for (const key of ["top.txt", "docs/a.txt", "docs/b.txt", "docs/2024/q1.txt", "docs/2024/q2.txt", "docs/2025/x.txt", "media/v.mp4", "docs-old.txt"]) {
        await storage.saveBuffer(Buffer.from(key), key);
      }
    });

    it("lists the root as folders and objects, delimited by /", async () => {
      const root = await storage.list("");
      expect(root.folders).toEqual(["docs/", "media/"]);
      expect(root.objects.map((o) => o.key)).toEqual(["docs-old.txt", "top.txt"]);
      expect(root.objects[1]).toMatchObject({ key: "top.txt", size: 7 });
      expect(root.objects[1]?.etag).toBeTruthy();
      expect(root.objects[1]?.lastModified).toBeInstanceOf(Date);
      expect(await storage.list()).toEqual(root);
    });

    it("lists a folder with its sub-folders as full prefixes", async () => {
      const docs = await storage.list("docs/");
      expect(docs.folders).toEqual(["docs/2024/", "docs/2025/"]);
      expect(docs.objects.map((o) => o.key)).toEqual(["docs/a.txt", "docs/b.txt"]);
      expect((await storage.list("docs/2024/")).objects.map((o) => o.key)).toEqual(["docs/2024/q1.txt", "docs/2024/q2.txt"]);
    });

    it("a prefix without a trailing slash matches names that start with it", async () => {
      const result = await storage.list("docs");
      expect(result.folders).toEqual(["docs/"]);
      expect(result.objects.map((o) => o.key)).toEqual(["docs-old.txt"]);
      expect((await storage.list("docs/20")).folders).toEqual(["docs/2024/", "docs/2025/"]);
    });

    it("an unknown prefix lists nothing", async () => {
      expect(await storage.list("nothing/")).toEqual({ folders: [], objects: [], nextAfter: null });
      expect(await storage.list("top.txt/")).toEqual({ folders: [], objects: [], nextAfter: null });
    });

    it("pages through folders and objects together in name order, each name once, and says when it is done", async () => {
      const root = await storage.list("");
      expect(root.nextAfter).toBeNull();
      // Root names in byte order: docs-old.txt, docs/, media/, top.txt ('-' sorts before '/').
      const pages: { folders: string[]; objects: string[]; nextAfter: string | null }[] = [];
      let after: string | null = null;
      do {
        const page = await storage.list("", { limit: 1, after });
        pages.push({ folders: page.folders, objects: page.objects.map((o) => o.key), nextAfter: page.nextAfter });
        after = page.nextAfter;
      } while (after !== null && pages.length < 10);
      expect(pages).toEqual([
        { folders: [], objects: ["docs-old.txt"], nextAfter: "docs-old.txt" },
        { folders: ["docs/"], objects: [], nextAfter: "docs/" },
        { folders: ["media/"], objects: [], nextAfter: "media/" },
        { folders: [], objects: ["top.txt"], nextAfter: null },
      ]);
      const two = await storage.list("docs/", { limit: 2 });
      expect([two.folders, two.objects.map((o) => o.key), two.nextAfter]).toEqual([["docs/2024/", "docs/2025/"], [], "docs/2025/"]);
      const rest = await storage.list("docs/", { limit: 2, after: two.nextAfter });
      expect([rest.folders, rest.objects.map((o) => o.key), rest.nextAfter]).toEqual([[], ["docs/a.txt", "docs/b.txt"], null]);
    });

    it("refuses a bad page size or a cursor from outside the prefix, listing nothing", async () => {
      for (const limit of [0, -1, 1001, 2.5]) {
        await expect(storage.list("docs/", { limit })).rejects.toMatchObject({ name: "InvalidStorageArgumentError", argument: "limit" });
      }
      await expect(storage.list("docs/", { after: "media/" })).rejects.toMatchObject({ name: "InvalidStorageArgumentError", argument: "after" });
    });

    it("a folder disappears with its last object", async () => {
      await storage.delete("media/v.mp4");
      expect((await storage.list("")).folders).toEqual(["docs/"]);
      await storage.delete("docs/2025/x.txt");
      expect((await storage.list("docs/")).folders).toEqual(["docs/2024/"]);
    });
  });

  describe("overwriting and deleting", () => {
    it("an overwrite replaces content, size, content type and etag", async () => {
      const first = await storage.saveBuffer(Buffer.from("version one"), "doc", "text/plain");
      const second = await storage.saveBuffer(Buffer.from('{"v":2}'), "doc", "application/json");
      expect((await storage.get("doc")).toString()).toBe('{"v":2}');
      const meta = await storage.getMetadata("doc");
      expect(meta).toMatchObject({ size: 7, contentType: "application/json", etag: second.etag });
      expect(second.etag).not.toBe(first.etag);
      expect(await everything()).toEqual(["doc"]);
    });

    it("delete removes the object and is idempotent", async () => {
      await storage.saveBuffer(Buffer.from("x"), "a/b");
      await storage.delete("a/b");
      expect(await storage.exists("a/b")).toBe(false);
      await expect(storage.delete("a/b")).resolves.toBeUndefined();
      await expect(storage.delete("never/existed")).resolves.toBeUndefined();
      expect(await storage.list("")).toEqual({ folders: [], objects: [], nextAfter: null });
    });

    it("a missing object is ObjectNotFoundError for get, getStream, getMetadata and getPresignedUrl, and exists is false", async () => {
      expect(await storage.exists("missing")).toBe(false);
      for (const attempt of [
        () => storage.get("missing"),
        () => storage.getStream("missing"),
        () => storage.getStream("missing", { start: 0, end: 1 }),
        () => storage.getMetadata("missing"),
        () => storage.getPresignedUrl("missing", 60),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ObjectNotFoundError);
        expect(error).toMatchObject({ key: "missing" });
      }
    });

    it("a folder is not an object", async () => {
      await storage.saveBuffer(Buffer.from("x"), "dir/file");
      expect(await storage.exists("dir")).toBe(false);
      await expect(storage.get("dir")).rejects.toBeInstanceOf(ObjectNotFoundError);
      await storage.delete("dir");
      expect(await storage.exists("dir/file")).toBe(true);
    });
  });

  describe("presigned URLs", () => {
    it("download the object without credentials", async () => {
      await storage.saveBuffer(Buffer.from("shared content"), "share/it is+here.txt", "text/plain");
      const url = await storage.getPresignedUrl("share/it is+here.txt", 300);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("shared content");
      expect(response.headers.get("content-type")).toBe("text/plain");
    });

    it("are signed by Berth, carry their expiry and the object's version", async () => {
      await storage.saveBuffer(Buffer.from("x"), "x.txt");
      const url = new URL(await storage.getPresignedUrl("x.txt", 300));
      expect(url.pathname).toBe("/files/x.txt");
      expect(Number(url.searchParams.get("expires")) - Date.now() / 1000).toBeCloseTo(300, -1);
      expect(url.searchParams.get("v")).toMatch(/^[0-9a-f]{16}$/);
      expect(url.searchParams.get("signature")).toMatch(/^[0-9a-f]{64}$/);
    });

    it("a tampered URL is refused", async () => {
      await storage.saveBuffer(Buffer.from("secret"), "private.txt");
      await storage.saveBuffer(Buffer.from("other"), "other.txt");
      const url = await storage.getPresignedUrl("private.txt", 300);
      const response = await fetch(url.replace("private.txt", "other.txt"));
      expect(response.status).toBe(403);
    });

    it("die with their object: after a delete and a new object under the key, or an overwrite, the link serves nothing", async () => {
      await storage.saveBuffer(Buffer.from("first version"), "share/doc.txt", "text/plain");
      const link = await storage.getPresignedUrl("share/doc.txt", 300);
      expect(await (await fetch(link)).text()).toBe("first version");

      await storage.delete("share/doc.txt");
      const gone = await fetch(link);
      expect(gone.status).toBe(404);
      await storage.saveBuffer(Buffer.from("second version"), "share/doc.txt", "text/plain");
      const recreated = await fetch(link);
      expect(recreated.status).toBe(410);
      expect(await recreated.text()).not.toContain("second version");

      const second = await storage.getPresignedUrl("share/doc.txt", 300);
      expect(await (await fetch(second)).text()).toBe("second version");
      // Object stores keep time to the second: a new version within the same second as the last
      // would share its modification time, so the overwrite waits for the next second.
      await new Promise((r) => setTimeout(r, 1100));
      await storage.saveBuffer(Buffer.from("third version"), "share/doc.txt", "text/plain");
      const overwritten = await fetch(second);
      expect(overwritten.status).toBe(410);
      expect(await overwritten.text()).not.toContain("third version");
    });

    it.each([0, -5, 1.5, 8 * 24 * 3600])("expiresIn=%s is an InvalidStorageArgumentError", async (expiresIn) => {
      await storage.saveBuffer(Buffer.from("x"), "x");
      await expect(storage.getPresignedUrl("x", expiresIn)).rejects.toBeInstanceOf(InvalidStorageArgumentError);
    });
  });

  describe("upload limits and interrupted uploads", () => {
    const limit = 1024 * 1024;

    async function expectNothingStored(key: string) {
      expect(await storage.exists(key)).toBe(false);
      expect(await everything()).toEqual([]);
      // Temp files are not listed; on local disk the temp folder must also be empty again.
      expect((await fixture.filesOnDisk()).filter((path) => path.includes("tmp/"))).toEqual([]);
    }

    it("a buffer over the limit is refused with UploadTooLargeError", async () => {
      const error = await storage.saveBuffer(Buffer.alloc(limit + 1), "big.bin").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UploadTooLargeError);
      expect(error).toMatchObject({ key: "big.bin", limit });
      await expectNothingStored("big.bin");
    });

    it("a stream of unknown size is cut off once it passes the limit, leaving nothing", async () => {
      const source = generated(3 * limit);
      const error = await storage.saveStream(source, "big/stream.bin").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UploadTooLargeError);
      expect(error).toMatchObject({ key: "big/stream.bin", limit });
      expect(source.destroyed).toBe(false); // the caller still owns it (an HTTP handler answers 413)
      await expectNothingStored("big/stream.bin");
    });

    it("an announced size over the limit is refused before reading", async () => {
      const source = generated(10);
      await expect(storage.saveStream(source, "k", undefined, limit + 1)).rejects.toBeInstanceOf(UploadTooLargeError);
      expect(source.readableDidRead).toBe(false);
      await expectNothingStored("k");
    });

    it("the limit can be lowered and raised per call", async () => {
      await expect(storage.saveBuffer(Buffer.alloc(100), "small", undefined, { maxUploadBytes: 99 })).rejects.toBeInstanceOf(UploadTooLargeError);
      const saved = await storage.saveStream(generated(limit + 10), "larger", undefined, undefined, { maxUploadBytes: 2 * limit });
      expect(saved.size).toBe(limit + 10);
      await expect(storage.saveBuffer(Buffer.alloc(1), "z", undefined, { maxUploadBytes: 0 })).rejects.toBeInstanceOf(InvalidStorageArgumentError);
    });

    it("a stream that errors half-way rejects with its error and leaves nothing", async () => {
      const error = await storage.saveStream(generated(400_000, { failAt: 200_000 }), "broken.bin").catch((e: unknown) => e);
      expect((error as Error).message).toBe("client went away");
      await expectNothingStored("broken.bin");
    });

    it("a stream closed early without an error rejects and leaves nothing", async () => {
      const source = new PassThrough();
      const saving = storage.saveStream(source, "closed.bin");
      source.write(Buffer.alloc(1000));
      setImmediate(() => source.destroy());
      await expect(saving).rejects.toThrow(/premature close/i);
      await expectNothingStored("closed.bin");
    });

    it("a stream shorter or longer than its announced size is UploadSizeMismatchError and leaves nothing", async () => {
      const short = await storage.saveStream(generated(500), "short", undefined, 1000).catch((e: unknown) => e);
      expect(short).toBeInstanceOf(UploadSizeMismatchError);
      expect(short).toMatchObject({ key: "short", expected: 1000, received: 500 });
      await expect(storage.saveStream(generated(2000), "long", undefined, 1000)).rejects.toBeInstanceOf(UploadSizeMismatchError);
      await expectNothingStored("short");
    });

    it("a failed overwrite leaves the previous object intact", async () => {
      await storage.saveBuffer(Buffer.from("good"), "keep.txt", "text/plain");
      await expect(storage.saveStream(generated(3 * limit), "keep.txt")).rejects.toBeInstanceOf(UploadTooLargeError);
      await expect(storage.saveStream(generated(400_000, { failAt: 100_000 }), "keep.txt")).rejects.toThrow("client went away");
      expect((await storage.get("keep.txt")).toString()).toBe("good");
      expect((await storage.getMetadata("keep.txt")).contentType).toBe("text/plain");
    });
  });

  describe("metrics", () => {
    it("counts operations by outcome in the shared registry", async () => {
      const ok = { operation: "saveBuffer", backend, status: "ok" };
      const missing = { operation: "getMetadata", backend, status: "not_found" };
      const invalid = { operation: "get", backend, status: "invalid_key" };
      const [ok0, missing0, invalid0] = await Promise.all([counterValue(ok), counterValue(missing), counterValue(invalid)]);
      await storage.saveBuffer(Buffer.from("x"), "m");
      await storage.getMetadata("nope").catch(() => {});
      await storage.get("../x").catch(() => {});
      expect(await counterValue(ok)).toBe(ok0 + 1);
      expect(await counterValue(missing)).toBe(missing0 + 1);
      expect(await counterValue(invalid)).toBe(invalid0 + 1);
      const text = await registry.metrics();
      expect(text).toMatch(new RegExp(`storage_operation_duration_seconds_count\\{operation="saveBuffer",backend="${backend}"\\} [1-9]`));
    });
  });
});
