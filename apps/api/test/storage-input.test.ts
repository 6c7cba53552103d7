// Hostile storage keys and oversized uploads through the API: a clear typed error, nothing
// stored, and the server keeps serving.
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op } from "./support/contract.js";

const HOSTILE_KEYS = [
  "../escape.txt",
  "a/../../escape.txt",
  "/etc/passwd",
  "%2e%2e/escape.txt",
  "%252e%252e/escape.txt",
  "a\\..\\escape.txt",
  "a\u0000b",
  "C:\\windows\\x",
  "..",
  "./..",
  "a//b",
  "x".repeat(1025),
  "",
  ".berth-storage/signing-secret",
  "reports/\u0001bell",
];

describe("storage input through the API", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { STORAGE_MAX_UPLOAD_BYTES: "1024" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const upload = async (key: string, bytes: number) => {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: op("UploadObject"), variables: { key, file: null } }));
    form.set("map", JSON.stringify({ 0: ["variables.file"] }));
    form.set("0", new File([new Uint8Array(bytes).fill(97)], "f.bin", { type: "application/octet-stream" }));
    const response = await api.fetch("/graphql", { method: "POST", headers: { authorization: `Bearer ${api.adminToken}`, "x-graphql-yoga-csrf": "1" }, body: form });
    const body = (await response.json()) as { data?: { uploadObject: { __typename: string; message?: string; field?: string } }; errors?: { message: string; extensions: { code: string } }[] };
    // A NUL character is refused for every string of every operation, before execution, like a
    // variable of the wrong type (policy/input.ts): a request error rather than a result union.
    if (key.includes("\u0000")) {
      expect(body.errors?.map((e) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
      return { __typename: "ValidationError", message: body.errors![0]!.message };
    }
    return body.data!.uploadObject;
  };
  const stored = async () => (await readdir(api.config.storage.localPath, { recursive: true }).catch(() => [] as string[])).filter((p) => !String(p).startsWith(".berth-storage"));

  it.each(HOSTILE_KEYS.map((k) => [JSON.stringify(k).slice(0, 40), k]))("upload under %s is a ValidationError and stores nothing", async (_label, key) => {
    const result = await upload(key, 10);
    expect(result.__typename).toBe("ValidationError");
    expect(result.message).toBeTruthy();
    expect(await stored()).toEqual([]);
  });

  it("hostile keys in queries and deletes are refused the same way, and are not logged as server errors", async () => {
    const logged = vi.spyOn(console, "error");
    try {
      for (const key of HOSTILE_KEYS.slice(0, 6)) {
        const meta = await api.gql(op("ObjectMetadata"), { key });
        expect(meta.errors?.[0]).toMatchObject({ message: expect.stringContaining("invalid storage key"), extensions: { code: "BAD_USER_INPUT" } });
        const del = await api.gql(op("DeleteObject"), { key });
        expect(del.data.deleteObject.__typename).toBe("ValidationError");
      }
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });

  it("an upload over STORAGE_MAX_UPLOAD_BYTES is refused, leaves nothing, and the server keeps serving", async () => {
    const result = await upload("big.bin", 4096);
    expect(result.__typename).toBe("ValidationError");
    expect(result.message).toContain("1024");
    expect(await stored()).toEqual([]);
    expect((await api.gql(op("Objects"), { prefix: "" })).data.objects).toEqual({ folders: [], objects: [] });
    const fine = await upload("small.bin", 100);
    expect(fine.__typename).toBe("MutationUploadObjectSuccess");
    expect(await stored()).toEqual(["small.bin"]);
  });

  it("objects pages with first and after; a bad page size or cursor is a BAD_USER_INPUT error", async () => {
    for (const key of ["pages/a.txt", "pages/b.txt", "pages/c/d.txt"]) await api.services.storage.saveBuffer(Buffer.from(key), key);
    const page = async (variables: Record<string, unknown>) => api.gql(`query ($prefix: String!, $first: Int, $after: String) { objects(prefix: $prefix, first: $first, after: $after) { folders objects { key } nextAfter } }`, variables);
    const first = (await page({ prefix: "pages/", first: 2 })).data.objects;
    expect(first).toEqual({ folders: [], objects: [{ key: "pages/a.txt" }, { key: "pages/b.txt" }], nextAfter: "pages/b.txt" });
    const second = (await page({ prefix: "pages/", first: 2, after: first.nextAfter })).data.objects;
    expect(second).toEqual({ folders: ["pages/c/"], objects: [], nextAfter: null });
    // The contract's Objects operation, without paging arguments, gets the whole (small) folder.
    const whole = await api.gql(op("Objects"), { prefix: "pages/" });
    expect(whole.errors).toBeUndefined();
    expect(whole.data.objects.folders).toEqual(["pages/c/"]);

    const logged = vi.spyOn(console, "error");
    try {
      for (const variables of [{ prefix: "pages/", first: 0 }, { prefix: "pages/", first: 5000 }, { prefix: "pages/", after: "elsewhere/x" }]) {
        const refused = await page(variables);
        expect(refused.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
      }
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});
