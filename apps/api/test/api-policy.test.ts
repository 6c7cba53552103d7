// The API's policy layer against hostile and careless clients: introspection, suggestions,
// list costs, duplicate root fields, request budgets, input hygiene and auth status codes.
import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSqlStatements } from "../../../bench/support/sql-counter.js";
import { postgresAvailable } from "../../../packages/core/test/support/services.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const json = (token: string | null, body: unknown, extra: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
  body: JSON.stringify(body),
});

describe("introspection and suggestions", () => {
  let api: TestApi;
  let viewer: string;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
    viewer = await api.tokenFor("viewer");
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("graphql-js's standard introspection query works for any signed-in client, under the default limits", async () => {
    for (const options of [{}, { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }]) {
      const res = await api.gql(getIntrospectionQuery(options), undefined, viewer);
      expect(res.errors).toBeUndefined();
      expect(res.data.__schema.queryType.name).toBe("Query");
      expect(res.data.__schema.types.map((t: { name: string }) => t.name)).toContain("Pool");
    }
  });

  it("introspection is bounded by its own rules: one __schema per operation, no expanding types through types", async () => {
    const twice = await api.gql("{ a: __schema { queryType { name } } b: __schema { queryType { name } } }", undefined, viewer);
    expect(twice.data).toBeUndefined();
    expect(twice.errors?.map((e) => e.extensions?.code)).toEqual(["INTROSPECTION_TOO_LARGE"]);
    const nested = await api.gql("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }", undefined, viewer);
    expect(nested.data).toBeUndefined();
    // (graphql-js's own MaxIntrospectionDepthRule may add its error beside ours.)
    expect(nested.errors?.map((e) => e.extensions?.code)).toContain("INTROSPECTION_TOO_LARGE");
    const once = await api.gql("{ __schema { types { fields { type { fields { name } } } } } }", undefined, viewer);
    expect(once.errors?.map((e) => e.extensions?.code)).toEqual(["INTROSPECTION_TOO_LARGE"]);
    // Depth past what graphql-js's own query needs is refused too.
    const ofTypes = "ofType { ".repeat(14) + "name" + " }".repeat(14);
    const deep = await api.gql(`{ __type(name: "Pool") { fields { type { ${ofTypes} } } } }`, undefined, viewer);
    expect(deep.errors?.map((e) => e.extensions?.code)).toEqual(["QUERY_TOO_DEEP"]);
  });

  it("without a token there is no introspection and no suggestion: 401 before the document is even parsed", async () => {
    for (const query of [getIntrospectionQuery(), "{ poolz { name } }", "{ __type(name: \"Pool\") { name } }"]) {
      const res = await api.fetch("/graphql", json(null, { query }));
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      const body = (await res.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e) => e.extensions.code)).toEqual(["UNAUTHENTICATED"]);
      expect(JSON.stringify(body)).not.toMatch(/Did you mean|__schema|Pool/);
    }
    const wrong = await api.fetch("/graphql", json("berth_not-a-token-at-all-000000000000", { query: "{ poolz { name } }" }));
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toContain("Did you mean");
    // A signed-in client gets the suggestion.
    const signedIn = await api.gql("{ poolz { name } }", undefined, viewer);
    expect(signedIn.errors?.[0]?.message).toMatch(/Did you mean .*"pools"/);
  });
});

describe("/metrics", () => {
  let api: TestApi;
  const metricsToken = "metrics-secret-0123456789abcdef";
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { METRICS_TOKEN: metricsToken } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("is not open on the API port: it needs METRICS_TOKEN as a bearer token (API tokens do not do)", async () => {
    const anonymous = await api.fetch("/metrics");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("berth_");
    expect((await api.fetch("/metrics", { headers: { authorization: `Bearer ${api.adminToken}` } })).status).toBe(401);
    const scraped = await api.fetch("/metrics", { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^nodejs_heap_size_total_bytes \d+/m);
  });
});

describe("list costs, duplicate root fields and request budgets", () => {
  let api: TestApi;
  let viewer: string;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { RATE_LIMIT_PER_MINUTE: "100000", RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: "100000" } });
    viewer = await api.tokenFor("viewer");
    for (let i = 0; i < 30; i++) await api.services.pools.createPool({ name: `p${i}`, minPods: 0, maxPods: 1, autoscale: false });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const costOf = async (query: string) => {
    const capped = await createTestApi({ backend: "pglite", env: { MAX_QUERY_COST: "1" } });
    try {
      for (let i = 0; i < 30; i++) await capped.services.pools.createPool({ name: `p${i}`, minPods: 0, maxPods: 1, autoscale: false });
      const res = await capped.gql(query);
      return res.errors?.[0]?.extensions?.cost as number;
    } finally {
      await capped.close();
    }
  };

  it("a list of pools costs by the number of pools it returns, and 400 aliases of it are refused for a viewer", async () => {
    const aliases = `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: pools { name }`).join(" ")} }`;
    const [single, flood] = await Promise.all([costOf("{ pools { name } }"), costOf(aliases)]);
    expect(single).toBeGreaterThanOrEqual(30);
    expect(flood).toBeGreaterThanOrEqual(400 * single);
    const res = await api.gql(aliases, undefined, viewer);
    expect(res.data).toBeUndefined();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["QUERY_TOO_COSTLY"]);
  }, 120_000);
});

describe.skipIf(!postgresAvailable)("identical root fields", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "postgres" });
    for (let i = 0; i < 3; i++) await api.services.pools.createPool({ name: `d${i}`, minPods: 0, maxPods: 1, autoscale: false });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("run once per request: 40 aliases of pools cost the SQL of one", async () => {
    const counter = countSqlStatements();
    try {
      // Warm: the token's lastUsedAt and the pool count for query costs are written or read once a while.
      await api.gql("{ pools { name } }");
      counter.reset();
      await api.gql("{ pools { name } }");
      const one = counter.count;
      counter.reset();
      const res = await api.gql(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: pools { name }`).join(" ")} }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.a39.map((p: { name: string }) => p.name)).toEqual(["d0", "d1", "d2"]);
      expect(counter.count).toBe(one);
      // Different arguments are different fields and both run.
      const two = await api.gql('{ a: pool(name: "d0") { name } b: pool(name: "d1") { name } c: pool(name: "d0") { name } }');
      expect(two.data).toEqual({ a: { name: "d0" }, b: { name: "d1" }, c: { name: "d0" } });
    } finally {
      counter.restore();
    }
  });
});

describe("request budgets", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { RATE_LIMIT_PER_MINUTE: "5", RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: "3" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("each token has its own budget: past it, 429 with Retry-After, and other tokens are served", async () => {
    const a = await api.tokenFor("viewer", { name: "a" });
    const b = await api.tokenFor("viewer", { name: "b" });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await api.fetch("/graphql", json(a, { query: "{ me { name } }" }))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await api.fetch("/graphql", json(a, { query: "{ me { name } }" }));
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("RATE_LIMITED");
    expect((await api.fetch("/graphql", json(b, { query: "{ me { name } }" }))).status).toBe(200);
  });

  it("an agent token, shared by every pod of its pool, has RATE_LIMIT_PER_MINUTE per 50 pods the pool may have", async () => {
    await api.services.pools.createPool({ name: "wide", minPods: 0, maxPods: 120, autoscale: false });
    const agent = await api.tokenFor("agent", { name: "wide agents", pool: "wide" });
    const statuses = [];
    for (let i = 0; i < 17; i++) statuses.push((await api.fetch("/graphql", json(agent, { query: "{ me { name } }" }))).status);
    // 120 pods: three budgets of 5.
    expect(statuses).toEqual([...Array(15).fill(200), 429, 429]);
  });

  it("wrong and missing tokens spend the client address's budget (how sign-in attempts are limited)", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api.fetch("/graphql", json(i % 2 ? null : `berth_guess${i}-aaaaaaaaaaaaaaaaaaaaa`, { query: "{ me { name } }" }))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // A valid token from the same address still has its own budget.
    const c = await api.tokenFor("viewer", { name: "c" });
    expect((await api.fetch("/graphql", json(c, { query: "{ me { name } }" }))).status).toBe(200);
  });
});

describe("error hygiene", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("a NUL character in any string argument is a validation error, not an unexpected one", async () => {
    const literal = await api.gql('{ pool(name: "de\\u0000mo") { name } }');
    expect(literal.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(literal.errors?.[0]?.message).toContain("NUL");
    const variable = await api.gql("query($n: String!) { pool(name: $n) { name } }", { n: "de\u0000mo" });
    expect(variable.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const nested = await api.gql("mutation($i: SubmitTaskInput!) { submitTask(input: $i) { __typename } }", { i: { pool: "x", type: "plan", payload: { a: "\u0000" } } });
    expect(nested.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(await api.services.prisma.task.count()).toBe(0);
  });

  it("a multipart upload over the storage limit names STORAGE_MAX_UPLOAD_BYTES when that is the smaller limit", async () => {
    const small = await createTestApi({ backend: "pglite", env: { MAX_REQUEST_BYTES: "8192", MAX_GRAPHQL_UPLOAD_BYTES: "65536", STORAGE_MAX_UPLOAD_BYTES: "4096" } });
    try {
      const form = new FormData();
      form.set("operations", JSON.stringify({ query: 'mutation($f: File!) { uploadObject(key: "a.bin", file: $f) { __typename } }', variables: { f: null } }));
      form.set("map", JSON.stringify({ 0: ["variables.f"] }));
      form.set("0", new File([new Uint8Array(20_000)], "a.bin"));
      const encoded = new Response(form);
      const body = new Uint8Array(await encoded.arrayBuffer());
      const res = await small.fetch("/graphql", {
        method: "POST",
        headers: { authorization: `Bearer ${small.adminToken}`, "x-graphql-yoga-csrf": "1", "content-type": encoded.headers.get("content-type")!, "content-length": String(body.byteLength) },
        body,
      });
      expect(res.status).toBe(413);
      const message = ((await res.json()) as { errors: { message: string }[] }).errors[0]!.message;
      expect(message).toContain("STORAGE_MAX_UPLOAD_BYTES");
      expect(message).not.toContain("MAX_GRAPHQL_UPLOAD_BYTES");
    } finally {
      await small.close();
    }
  });
});
