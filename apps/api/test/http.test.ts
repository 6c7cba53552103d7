import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { redisAvailable, REDIS_URL } from "../../../packages/core/test/support/services.js";
import { createServices, RedisUnavailableError } from "../src/services.js";
import { loadConfig } from "@berth/core/cluster";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

describe.each(backends)("health, readiness and metrics (%s)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("/healthz answers ok, without a token", async () => {
    const res = await api.fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });

  it("/metrics is not served on the API port unless METRICS_TOKEN is set (see the METRICS_PORT listener)", async () => {
    const res = await api.fetch("/metrics");
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("nodejs_");
  });

  it("an unknown path is a 404", async () => {
    expect((await api.fetch("/nope")).status).toBe(404);
  });

  // Last in this block: it closes the database.
  it("/readyz is 200 while the database answers, 503 with the reason once it does not; /healthz stays 200", async () => {
    const ready = await api.fetch("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok" } });

    await api.services.db.close();
    const down = await api.fetch("/readyz");
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; checks: { database: string } };
    expect(body.status).toBe("not ready");
    expect(body.checks.database).not.toBe("ok");
    expect(body.checks.database.length).toBeGreaterThan(0);
    expect((await api.fetch("/healthz")).status).toBe(200);

    // An unexpected failure reaches the client masked: no driver message, no stack.
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const masked = await api.gql("{ cluster { mode } }");
    // ...and is logged on the server, where an operator can see what it was.
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
    expect(masked.errors?.map((e) => e.message)).toEqual(["Unexpected error."]);
    expect(JSON.stringify(masked)).not.toMatch(/PGlite|pool|stack|prisma/i);
  });
});

describe.skipIf(!redisAvailable)("readiness with Redis", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { REDIS_URL } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("/readyz checks Redis too when REDIS_URL is set, and reports when it stops answering", async () => {
    const ready = await api.fetch("/readyz");
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "ok" } });
    api.services.redis!.disconnect();
    const down = await api.fetch("/readyz");
    expect(down.status).toBe(503);
    const body = (await down.json()) as { checks: Record<string, string> };
    expect(body.checks.database).toBe("ok");
    expect(body.checks.redis).not.toBe("ok");
  });
});

describe("metrics with METRICS_TOKEN", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { METRICS_TOKEN: "scrape-me-0123456789" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("/metrics serves the Prometheus registry with the default process metrics to a scrape with the token", async () => {
    const res = await api.fetch("/metrics", { headers: { authorization: "Bearer scrape-me-0123456789" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^# HELP process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes \d+/m);
  });
});

describe("services at start-up", () => {
  it("an unreachable REDIS_URL stops start-up with a typed one-line error, and the database is closed again", async () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:1", BERTH_ENV: "test" });
    const error = await createServices(config, { database: { kind: "pglite-memory" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe("redis unavailable at redis://127.0.0.1:1: connection refused");
  }, STARTUP_TIMEOUT_MS);
});

describe("CSRF prevention", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const multipart = () => {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: "{ me { role } }" }));
    form.set("map", "{}");
    return form;
  };

  it("a browser-style multipart request without the header is refused", async () => {
    const res = await api.fetch("/graphql", { method: "POST", headers: { authorization: `Bearer ${api.adminToken}` }, body: multipart() });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe("Required CSRF header(s) not present");
  });

  it("the same request with x-graphql-yoga-csrf is served", async () => {
    const res = await api.fetch("/graphql", {
      method: "POST",
      headers: { authorization: `Bearer ${api.adminToken}`, "x-graphql-yoga-csrf": "1" },
      body: multipart(),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { role: "admin" } } });
  });

  it("a GET query (which a page could trigger cross-site) needs the header; a JSON POST from a script does not", async () => {
    const url = `/graphql?query=${encodeURIComponent("{ me { role } }")}`;
    const headers = { authorization: `Bearer ${api.adminToken}` };
    expect((await api.fetch(url, { headers })).status).toBe(403);
    expect((await api.fetch(url, { headers: { ...headers, "x-graphql-yoga-csrf": "1" } })).status).toBe(200);
    expect((await api.gql("{ me { role } }")).data).toEqual({ me: { role: "admin" } });
  });
});

describe("GraphiQL", () => {
  const page = (api: TestApi) => api.fetch("/graphql", { headers: { accept: "text/html" } });

  it("outside production, a browser is pointed at the console's explorer, with nothing loaded from a CDN", async () => {
    const api = await createTestApi({ backend: "pglite", env: { BERTH_ENV: "development" } });
    try {
      const res = await page(api);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("/explorer");
      expect(html).not.toMatch(/<script|https?:\/\//);
    } finally {
      await api.close();
    }
  }, STARTUP_TIMEOUT_MS);

  it("is off in production", async () => {
    const api = await createTestApi({ backend: "pglite", env: { BERTH_ENV: "production" } });
    try {
      const res = await page(api);
      expect(await res.text()).not.toContain("/explorer");
    } finally {
      await api.close();
    }
  }, STARTUP_TIMEOUT_MS);
});
