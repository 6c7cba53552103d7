import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_QUERY_TOKENS } from "../src/policy/limits.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation } from "./support/contract.js";

const CREATE = `mutation($name: String!, $role: String!) { createApiToken(name: $name, role: $role) { __typename } }`;

/** Limits protect the API from hostile documents: each is refused clearly, changes nothing, and the API keeps serving. */
describe("request and query limits", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { MAX_QUERY_DEPTH: "6", MAX_QUERY_COST: "60", MAX_REQUEST_BYTES: "262144" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const tokens = () => api.services.prisma.apiToken.count();
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    api.fetch("/graphql", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.adminToken}`, ...headers }, body });
  const stillServes = async () => {
    const res = await api.gql("{ me { role } }");
    expect(res).toEqual({ status: 200, data: { me: { role: "admin" } } });
  };

  it("a query deeper than MAX_QUERY_DEPTH is refused before execution, __type included (__schema has its own rules)", async () => {
    const deep = '{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }';
    const res = await api.gql(deep);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      expect.objectContaining({ message: "query depth limit of 6 exceeded, found 8.", extensions: expect.objectContaining({ code: "QUERY_TOO_DEEP" }) }),
    ]);
    const viaFragments = await api.gql('query { __type(name: "Query") { ...T } } fragment T on __Type { fields { type { ofType { ofType { ofType { ofType { name } } } } } } }');
    expect(viaFragments.errors?.map((e) => e.extensions?.code)).toEqual(["QUERY_TOO_DEEP"]);
    expect((await api.gql('{ __type(name: "Query") { fields { type { ofType { name } } } } }')).errors).toBeUndefined();
    await stillServes();
  });

  it("an operation costing more than MAX_QUERY_COST is refused before any resolver runs", async () => {
    const before = await tokens();
    // Every alias is one more mutation to run, so each adds to the cost.
    const many = `mutation { ${Array.from({ length: 70 }, (_, i) => `t${i}: createApiToken(name: "c${i}", role: "viewer") { __typename }`).join(" ")} }`;
    const res = await api.gql(many);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^query cost \d+ exceeds the limit of 60/),
        extensions: expect.objectContaining({ code: "QUERY_TOO_COSTLY", limit: 60 }),
      }),
    ]);
    expect(await tokens()).toBe(before);
    // A list multiplies the cost of what is selected in it.
    const list = await api.gql("{ apiTokens { id name role prefix pool createdAt } }");
    expect(list.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COSTLY", cost: 61 });
    expect((await api.gql("{ apiTokens { id name role prefix pool } }")).errors).toBeUndefined();
    await stillServes();
  });

  it("100 KB of aliases is refused at parsing, and nothing runs", async () => {
    const before = await tokens();
    const aliases = Array.from({ length: 2_000 }, (_, i) => `a${i}: createApiToken(name: "x", role: "viewer") { __typename }`).join(" ");
    const document = `mutation { ${aliases} }`;
    expect(document.length).toBeGreaterThan(100_000);
    const res = await api.fetch("/graphql", {
      method: "POST",
      // Under the body limit: only the token limit stops it.
      headers: { "content-type": "application/json", authorization: `Bearer ${api.adminToken}` },
      body: JSON.stringify({ query: document }),
    });
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.message).toContain(`Token limit of ${MAX_QUERY_TOKENS} exceeded`);
    expect(await tokens()).toBe(before);
    await stillServes();
  }, 30_000);

  it("malformed JSON is a 400 that says so", async () => {
    const res = await post('{"query": "{ me { role } }"');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toBe("POST body sent invalid JSON.");
    await stillServes();
  });

  it("variables of the wrong type are refused with the variable named, and nothing is stored", async () => {
    const before = await tokens();
    const res = await api.gql(CREATE, { name: 5, role: ["admin"] });
    expect(res.data).toBeUndefined();
    expect(res.errors?.map((e) => e.message)).toEqual([
      'Variable "$name" got invalid value 5; String cannot represent a non string value: 5',
      'Variable "$role" got invalid value ["admin"]; String cannot represent a non string value: ["admin"]',
    ]);
    expect(await tokens()).toBe(before);
    await stillServes();
  });

  it("a body over MAX_REQUEST_BYTES is a 413, whether it announces its length or streams", async () => {
    const before = await tokens();
    const big = JSON.stringify({ query: CREATE, variables: { name: "x".repeat(300_000), role: "viewer" } });
    const announced = await post(big, { "content-length": String(Buffer.byteLength(big)) });
    expect(announced.status).toBe(413);
    expect(((await announced.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      "request body is larger than 262144 bytes (MAX_REQUEST_BYTES)",
    );

    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
        controller.close();
      },
    });
    const streamed = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.adminToken}` },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await tokens()).toBe(before);
    await stillServes();
  });

  it("a body just under the limit is served", async () => {
    const body = JSON.stringify({ query: `{ me { role } }`, variables: { pad: "p".repeat(250_000) } });
    expect(Buffer.byteLength(body)).toBeLessThan(262_144);
    const res = await post(body);
    expect(res.status).toBe(200);
  });
});

describe("GraphQL multipart uploads", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { MAX_REQUEST_BYTES: "8192", MAX_GRAPHQL_UPLOAD_BYTES: "16384", STORAGE_MAX_UPLOAD_BYTES: "1048576" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const multipart = (key: string, bytes: number) => {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: contractOperation("UploadObject"), variables: { key, file: null } }));
    form.set("map", JSON.stringify({ 0: ["variables.file"] }));
    form.set("0", new File([new Uint8Array(bytes).fill(98)], "f.bin", { type: "application/octet-stream" }));
    return form;
  };
  // As HTTP clients send a form: encoded, with its length announced.
  const send = async (form: FormData, announceLength = true) => {
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    const headers: Record<string, string> = { authorization: `Bearer ${api.adminToken}`, "x-graphql-yoga-csrf": "1", "content-type": encoded.headers.get("content-type")! };
    if (announceLength) headers["content-length"] = String(body.byteLength);
    return api.fetch("/graphql", { method: "POST", headers, body });
  };

  it("are held to MAX_GRAPHQL_UPLOAD_BYTES with a 413 that points to the streamed PUT, which still takes the file", async () => {
    const small = (await (await send(multipart("small.bin", 10_000))).json()) as { data?: { uploadObject: { __typename: string } }; errors?: unknown };
    expect(small).toMatchObject({ data: { uploadObject: { __typename: "MutationUploadObjectSuccess", data: { key: "small.bin", size: 10_000 } } } });
    const refused = await send(multipart("big.bin", 100_000));
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toContain("at most 16384 bytes of file (MAX_GRAPHQL_UPLOAD_BYTES)");
    expect(await api.services.storage.exists("big.bin")).toBe(false);
    // Without a length it is refused while being read (by yoga's own multipart limit, the same size).
    expect((await send(multipart("big.bin", 100_000), false)).status).toBeGreaterThanOrEqual(400);
    expect(await api.services.storage.exists("big.bin")).toBe(false);

    const put = await api.fetch("/files/big.bin", { method: "PUT", headers: { authorization: `Bearer ${api.adminToken}` }, body: new Uint8Array(100_000).fill(99) });
    expect(put.status).toBeLessThan(300);
    expect((await api.services.storage.getMetadata("big.bin")).size).toBe(100_000);
  });
});
