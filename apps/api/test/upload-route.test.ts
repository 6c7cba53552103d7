import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StorageService } from "@berth/core/storage";
import { uploadRoute, withUploads } from "../src/upload-route.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const LIMIT = 4096;

/** A body that arrives in pieces, without a Content-Length. */
function chunked(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(p);
      controller.close();
    },
  });
}

describe("PUT /files/<key>: streamed uploads", () => {
  let api: TestApi;
  let operator: string;
  beforeAll(async () => {
    // The API's default routes: uploads and share-link downloads both.
    api = await createTestApi({ backend: "pglite", env: { STORAGE_MAX_UPLOAD_BYTES: String(LIMIT) } });
    operator = await api.tokenFor("operator");
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const put = (path: string, body: BodyInit | null, token: string | null, headers: Record<string, string> = {}) =>
    api.fetch(path, {
      method: "PUT",
      body,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);

  it("stores the body under the key with the content type of its name (not the uploader's), and the share link serves the same bytes", async () => {
    const bytes = randomBytes(3000);
    const res = await put("/files/reports/a%20b.bin", bytes, operator, { "content-type": "application/x-test" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key: "reports/a b.bin", size: 3000, contentType: "application/octet-stream" });
    expect(Buffer.compare(await api.services.storage.get("reports/a b.bin"), bytes)).toBe(0);

    const link = new URL(await api.services.storage.getPresignedUrl("reports/a b.bin", 60));
    const download = await api.fetch(`${link.pathname}${link.search}`);
    expect(download.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await download.arrayBuffer()), bytes)).toBe(0);
  });

  it("a chunked body (no Content-Length) is stored whole, and an admin may upload too", async () => {
    const res = await put("/files/chunked.txt", chunked(Buffer.from("hello "), Buffer.from("world")), api.adminToken);
    expect(res.status).toBe(200);
    expect((await api.services.storage.get("chunked.txt")).toString()).toBe("hello world");
  });

  it("401 without a token or with an unknown one, 403 for viewer and agent tokens; nothing is stored", async () => {
    const missing = await put("/files/denied.txt", "x", null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    expect((await put("/files/denied.txt", "x", "not-a-token-that-anyone-issued")).status).toBe(401);
    expect((await put("/files/denied.txt", "x", await api.tokenFor("viewer"))).status).toBe(403);
    await api.services.pools.createPool({ name: "uploads", minPods: 0, maxPods: 1, autoscale: false });
    expect((await put("/files/denied.txt", "x", await api.tokenFor("agent", { pool: "uploads" }))).status).toBe(403);
    expect(await api.services.storage.exists("denied.txt")).toBe(false);
  });

  it("400 for a key storage refuses (a backslash), and nothing is stored", async () => {
    const res = await put("/files/a%5Cb.txt", "x", operator);
    expect(res.status).toBe(400);
    expect((await api.services.storage.list("")).objects.map((o) => o.key)).not.toContain("a\\b.txt");
  });

  it("413 past the upload limit, whether the length is declared or the body just keeps coming; no object is left", async () => {
    const declared = await put("/files/big-declared.bin", randomBytes(LIMIT + 1), operator);
    expect(declared.status).toBe(413);
    const streamed = await put("/files/big-streamed.bin", chunked(randomBytes(LIMIT), randomBytes(10)), operator);
    expect(streamed.status).toBe(413);
    expect(await api.services.storage.exists("big-declared.bin")).toBe(false);
    expect(await api.services.storage.exists("big-streamed.bin")).toBe(false);
  });

  it("other methods still reach the download route", async () => {
    const res = await api.fetch("/files/reports/a%20b.bin");
    // The download route's own answer to a link without a signature.
    expect(res.status).toBe(403);
    const alone = withUploads(api.services);
    expect((await alone.files!(new Request("http://berth.test/files/x.txt"), { Response })).status).toBe(405);
  });

  it("the body reaches storage while it is still arriving (it is not buffered first)", async () => {
    let firstChunkReached!: () => void;
    const reached = new Promise<void>((resolve) => (firstChunkReached = resolve));
    const storage = {
      maxUploadBytes: LIMIT,
      async saveStream(stream: Readable, key: string) {
        let size = 0;
        for await (const chunk of stream) {
          if (size === 0) firstChunkReached();
          size += (chunk as Buffer).length;
        }
        return { key, size, contentType: "application/octet-stream", etag: "e" };
      },
    } as unknown as StorageService;
    const route = uploadRoute({ ...api.services, storage });

    let send!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (send = c) });
    const answered = route(
      new Request("http://berth.test/files/slow.bin", { method: "PUT", body, headers: { authorization: `Bearer ${operator}` }, duplex: "half" } as RequestInit),
    );
    send.enqueue(Buffer.from("first"));
    // Resolves only if the route hands the stream to storage before the body has ended.
    const outcome = await Promise.race([reached.then(() => "streamed"), new Promise((resolve) => setTimeout(() => resolve("buffered"), 5_000))]);
    send.enqueue(Buffer.from(" second"));
    send.close();
    expect(outcome).toBe("streamed");
    const res = await answered;
    expect(await res.json()).toMatchObject({ key: "slow.bin", size: 12 });
  });
});
