import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidKeyError, type StorageService } from "../../src/storage/index.js";
import { backendNames, closeShared, openStorage, type StorageFixture } from "./support/backends.js";
import { hostileKeys } from "./hostile-keys.js";

afterAll(closeShared);

const methods: [name: string, call: (storage: StorageService, key: string, file: string) => Promise<unknown>][] = [
  ["save", (s, key, file) => s.save(file, key)],
  ["saveBuffer", (s, key) => s.saveBuffer(Buffer.from("payload"), key)],
  ["saveStream", (s, key) => s.saveStream(Readable.from([Buffer.from("payload")]), key)],
  ["get", (s, key) => s.get(key)],
  ["getStream", (s, key) => s.getStream(key)],
  ["getStream with a range", (s, key) => s.getStream(key, { start: 0, end: 3 })],
  ["delete", (s, key) => s.delete(key)],
  ["exists", (s, key) => s.exists(key)],
  ["getMetadata", (s, key) => s.getMetadata(key)],
  ["getPresignedUrl", (s, key) => s.getPresignedUrl(key, 60)],
];

describe.each(backendNames)("hostile keys on %s storage", (backend) => {
  let fixture: StorageFixture;
  let sourceDir: string;
  let sourceFile: string;
  let before: string[];

  beforeAll(async () => {
    fixture = await openStorage(backend);
    sourceDir = await mkdtemp(join(tmpdir(), "berth-hostile-src-"));
    sourceFile = join(sourceDir, "payload.txt");
    await writeFile(sourceFile, "payload");
    // One legitimate object, so that reads have something they could wrongly reach.
    await fixture.storage.saveBuffer(Buffer.from("legit"), "x");
    // Local: the root's parent, so a write beside the root would show; MinIO: s3rver's data directory.
    before = await fixture.filesOnDisk();
  });

  afterAll(async () => {
    await fixture.close();
    await rm(sourceDir, { recursive: true, force: true });
  });

  it.each(methods)("%s refuses every hostile key with InvalidKeyError", async (_name, call) => {
    for (const [label, key, reason] of hostileKeys) {
      const error = await call(fixture.storage, key, sourceFile).then(
        () => new Error(`${label} was accepted`),
        (e: unknown) => e,
      );
      expect(error, label).toBeInstanceOf(InvalidKeyError);
      expect((error as InvalidKeyError).reason, label).toBe(reason);
    }
  });

  it("saveStream refuses before reading the stream", async () => {
    const source = Readable.from([Buffer.from("payload")]);
    await expect(fixture.storage.saveStream(source, "../escape")).rejects.toBeInstanceOf(InvalidKeyError);
    expect(source.readableDidRead).toBe(false);
  });

  it("list refuses hostile prefixes", async () => {
    for (const prefix of ["../", "a/../../", "/", "/etc/", "%2e%2e/", "%252e%252e/", "a\\", "a\0/", "C:\\", "a//", ".berth-storage/"]) {
      await expect(fixture.storage.list(prefix), JSON.stringify(prefix)).rejects.toBeInstanceOf(InvalidKeyError);
    }
  });

  it("nothing was written, inside or outside the root, and the legitimate object is intact", async () => {
    expect(await fixture.filesOnDisk()).toEqual(before);
    expect((await fixture.storage.get("x")).toString()).toBe("legit");
    expect((await fixture.storage.list("")).objects.map((o) => o.key)).toEqual(["x"]);
  });
});
