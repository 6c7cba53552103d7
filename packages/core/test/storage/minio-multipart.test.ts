// The multipart path of the MinIO backend, which s3rver cannot serve: the real minio client runs
// its own part splitting, and only its requests to the server are replaced by recorders.
import { Client } from "minio";
import { describe, expect, it } from "vitest";
import { UploadTooLargeError, createMinioStorage } from "../../src/storage/index.js";
import { generated } from "./support/streams.js";

const MiB = 1024 * 1024;

function recordingStorage(options: { partSize?: number; maxUploadBytes: number }) {
  const calls = {
    singlePuts: [] as { size: number; contentType: unknown }[],
    parts: [] as number[],
    completed: 0,
    aborted: [] as string[],
    removed: [] as string[],
  };
  const client = new Client({ endPoint: "127.0.0.1", port: 9, useSSL: false, accessKey: "k", secretKey: "s", ...(options.partSize ? { partSize: options.partSize } : {}) });
  Object.assign(client as unknown as Record<string, unknown>, {
    bucketExists: async () => true,
    uploadBuffer: async (_bucket: string, _key: string, headers: Record<string, unknown>, buffer: Buffer) => {
      calls.singlePuts.push({ size: buffer.length, contentType: headers["Content-Type"] });
      return { etag: "single" };
    },
    findUploadId: async () => undefined,
    initiateNewMultipartUpload: async () => "upload-1",
    makeRequestAsyncOmit: async (_options: unknown, chunk: Buffer) => {
      calls.parts.push(chunk.length);
      return { headers: { etag: `"part-${calls.parts.length}"` } };
    },
    completeMultipartUpload: async () => {
      calls.completed++;
      return { etag: "multipart" };
    },
    removeIncompleteUpload: async (_bucket: string, key: string) => {
      calls.aborted.push(key);
    },
    removeObject: async (_bucket: string, key: string) => {
      calls.removed.push(key);
    },
  });
  const storage = createMinioStorage({ endPoint: "", port: 1, useSSL: false, accessKey: "", secretKey: "", bucket: "berth-test", client, publicBaseUrl: "http://127.0.0.1:1", signingSecret: "unused-in-these-tests", ...options });
  return { storage, calls };
}

describe("MinIO uploads above the part size", () => {
  it("an object below the part size goes in one PUT with its content type", async () => {
    const { storage, calls } = recordingStorage({ partSize: 5 * MiB, maxUploadBytes: 100 * MiB });
    const saved = await storage.saveStream(generated(3 * MiB), "small.bin", "video/mp4");
    expect(saved).toMatchObject({ size: 3 * MiB, etag: "single" });
    expect(calls.singlePuts).toEqual([{ size: 3 * MiB, contentType: "video/mp4" }]);
    expect(calls.parts).toEqual([]);
  });

  it("a larger stream of unknown size is uploaded in parts and completed once", async () => {
    const { storage, calls } = recordingStorage({ partSize: 5 * MiB, maxUploadBytes: 100 * MiB });
    const saved = await storage.saveStream(generated(12 * MiB), "big.bin");
    expect(saved).toMatchObject({ size: 12 * MiB, etag: "multipart" });
    expect(calls.parts).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
    expect(calls.completed).toBe(1);
    expect(calls.aborted).toEqual([]);
  });

  it("without a known size, parts are sized from the upload limit, not from S3's 5 TiB maximum", async () => {
    // The client's default part size (64 MiB) applies up to 640 GiB; for 5 TiB it would buffer ~528 MiB parts.
    const { storage, calls } = recordingStorage({ maxUploadBytes: 1024 * MiB });
    await storage.saveStream(generated(70 * MiB), "seventy.bin");
    expect(calls.parts).toEqual([64 * MiB, 6 * MiB]);
  });

  it("a stream that fails half-way rejects promptly, is never completed, and the multipart upload is aborted", async () => {
    const { storage, calls } = recordingStorage({ partSize: 5 * MiB, maxUploadBytes: 100 * MiB });
    await expect(storage.saveStream(generated(20 * MiB, { chunk: 256 * 1024, failAt: 12 * MiB }), "broken.bin")).rejects.toThrow("client went away");
    expect(calls.completed).toBe(0);
    expect(calls.aborted).toEqual(["broken.bin"]);
    expect(calls.parts.length).toBeGreaterThanOrEqual(1);
  });

  it("a stream over the limit is cut off, never completed, and the multipart upload is aborted", async () => {
    const { storage, calls } = recordingStorage({ partSize: 5 * MiB, maxUploadBytes: 8 * MiB });
    await expect(storage.saveStream(generated(30 * MiB), "huge.bin")).rejects.toBeInstanceOf(UploadTooLargeError);
    expect(calls.completed).toBe(0);
    expect(calls.aborted).toEqual(["huge.bin"]);
    expect(calls.parts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(8 * MiB);
  });
});
