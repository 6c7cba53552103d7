import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FOLDER_MARKER,
  InvalidKeyError,
  InvalidStorageArgumentError,
  MAX_BULK_OBJECTS,
  ObjectExistsError,
  ObjectNotFoundError,
  TooManyObjectsError,
  type StorageService,
} from "../../src/storage/index.js";
import { allKeys, backendNames, closeShared, openStorage, type StorageFixture } from "./support/backends.js";

afterAll(closeShared);

describe.each(backendNames)("%s storage: copy, move, folders and bulk deletes", (backend) => {
  let fixture: StorageFixture;
  let storage: StorageService;

  beforeEach(async () => {
    fixture = await openStorage(backend, { maxUploadBytes: 1024 * 1024 });
    storage = fixture.storage;
  });
  afterEach(() => fixture.close());

  /** Nothing but committed objects is visible: no temp files, no half-written objects. */
  const everything = (prefix = "") => allKeys(storage, prefix);

  describe("copy and move", () => {
    it("copy keeps the source and gives the copy the same bytes and content type", async () => {
      await storage.saveBuffer(Buffer.from("report body"), "a/report.bin", "text/csv");
      const copied = await storage.copy("a/report.bin", "b/copy.bin");
      expect(copied).toMatchObject({ key: "b/copy.bin", size: 11, contentType: "text/csv" });
      expect((await storage.get("b/copy.bin")).toString()).toBe("report body");
      expect(await everything()).toEqual(["a/report.bin", "b/copy.bin"]);
    });

    it("move (rename) leaves only the target", async () => {
      await storage.saveBuffer(Buffer.from("x1"), "old name.txt", "text/plain");
      await storage.move("old name.txt", "renamed/new name.txt");
      expect(await everything()).toEqual(["renamed/new name.txt"]);
      expect((await storage.get("renamed/new name.txt")).toString()).toBe("x1");
    });

    it("refuses a missing source, an existing target, the same key and bad keys, changing nothing", async () => {
      await storage.saveBuffer(Buffer.from("one"), "one.txt");
      await storage.saveBuffer(Buffer.from("two"), "two.txt");
      const before = await everything();
      await expect(storage.move("missing.txt", "x.txt")).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(storage.move("one.txt", "two.txt")).rejects.toBeInstanceOf(ObjectExistsError);
      await expect(storage.move("one.txt", "one.txt")).rejects.toMatchObject({ name: "InvalidStorageArgumentError", argument: "to" });
      for (const bad of ["../escape.txt", "/etc/passwd", "a/%2e%2e/b", "a//b", "C:/x"]) {
        await expect(storage.move("one.txt", bad)).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(storage.copy(bad, "fine.txt")).rejects.toBeInstanceOf(InvalidKeyError);
      }
      expect(await everything()).toEqual(before);
      expect((await storage.get("two.txt")).toString()).toBe("two");
    });

    it("overwrite: true replaces the target", async () => {
      await storage.saveBuffer(Buffer.from("new"), "src.txt");
      await storage.saveBuffer(Buffer.from("old"), "dst.txt");
      await storage.move("src.txt", "dst.txt", { overwrite: true });
      expect(await everything()).toEqual(["dst.txt"]);
      expect((await storage.get("dst.txt")).toString()).toBe("new");
    });
  });

  describe("folders", () => {
    it("createFolder shows an empty folder, marked by a zero-byte object, and is idempotent", async () => {
      expect(await storage.createFolder("projects/new")).toBe("projects/new/");
      await storage.createFolder("projects/new/");
      expect((await storage.list("projects/")).folders).toEqual(["projects/new/"]);
      // (s3rver does not roll keys two levels down into a root folder, so the folder is listed itself.)
      expect((await storage.list("projects/new/")).objects.map((o) => o.key)).toEqual([`projects/new/${FOLDER_MARKER}`]);
      expect((await storage.getMetadata(`projects/new/${FOLDER_MARKER}`)).size).toBe(0);
    });

    it("createFolder refuses bad names and the root, storing nothing", async () => {
      for (const bad of ["", "/", "../up", "/abs", "a/../b", "a\\b", ".berth-storage"]) {
        await expect(storage.createFolder(bad)).rejects.toBeInstanceOf(InvalidKeyError);
      }
      expect(await everything()).toEqual([]);
    });

    it("listUnder returns the keys of every level, bounded, and says when there are more", async () => {
      for (const key of ["f/a", "f/b/c", "f/b/d/e", "g/x"]) await storage.saveBuffer(Buffer.from("x"), key);
      expect(await storage.listUnder("f")).toEqual({ keys: expect.arrayContaining(["f/a", "f/b/c", "f/b/d/e"]), more: false });
      expect((await storage.listUnder("f")).keys).toHaveLength(3);
      expect(await storage.listUnder("f/", 2)).toMatchObject({ more: true });
      expect((await storage.listUnder("f/", 2)).keys).toHaveLength(2);
      await expect(storage.listUnder("f", MAX_BULK_OBJECTS + 1)).rejects.toBeInstanceOf(InvalidStorageArgumentError);
    });

    it("deleteFolder deletes every level below the folder and nothing beside it", async () => {
      for (const key of ["f/a", "f/b/c", "f/b/d/e", "fa", "g/x"]) await storage.saveBuffer(Buffer.from("x"), key);
      expect(await storage.deleteFolder("f/")).toBe(3);
      expect(await everything()).toEqual(["fa", "g/x"]);
    });
  });

  describe("bulk deletes", () => {
    it("deleteMany deletes the keys given, counting each once", async () => {
      for (const key of ["a", "b/c", "d"]) await storage.saveBuffer(Buffer.from("x"), key);
      expect(await storage.deleteMany(["a", "b/c", "a"])).toBe(2);
      expect(await everything()).toEqual(["d"]);
    });

    it("deleteMany with one bad key deletes none", async () => {
      for (const key of ["a", "b"]) await storage.saveBuffer(Buffer.from("x"), key);
      await expect(storage.deleteMany(["a", "../b"])).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.deleteMany(Array.from({ length: MAX_BULK_OBJECTS + 1 }, (_, i) => `k${i}`))).rejects.toMatchObject({ argument: "keys" });
      expect(await everything()).toEqual(["a", "b"]);
    });

    it("deleteFolder refuses a folder with more objects than the bound, deleting nothing", { timeout: 60_000 }, async () => {
      // Many small objects, so the bound is checked against a real listing of more than one page.
      const keys = Array.from({ length: MAX_BULK_OBJECTS + 1 }, (_, i) => `big/${String(i).padStart(4, "0")}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => storage.saveBuffer(Buffer.from("x"), key)));
      const error = await storage.deleteFolder("big").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TooManyObjectsError);
      expect(error).toMatchObject({ prefix: "big/", limit: MAX_BULK_OBJECTS });
      expect((await storage.listUnder("big", MAX_BULK_OBJECTS)).more).toBe(true);
      expect(await storage.exists("big/0000")).toBe(true);
    });
  });
});
