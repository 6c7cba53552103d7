import { registry } from "@berth/core/metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationNames, routeTemplate } from "../src/request-metrics.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

async function value(name: string, labels: Record<string, string> = {}, suffix = ""): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const wanted = suffix ? `${name}${suffix}` : undefined;
  return (metric?.values ?? [])
    .filter((v) => (!wanted || (v as { metricName?: string }).metricName === wanted) && Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("request metrics", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("counts GraphQL operations by name and outcome, with their latency", async () => {
    const ok = { operation: "MetricsProbe", type: "query", outcome: "ok" };
    const before = await value("berth_graphql_operations_total", ok);
    const timedBefore = await value("berth_graphql_operation_duration_seconds", ok, "_count");
    await api.gql("query MetricsProbe { me { role } }");
    expect(await value("berth_graphql_operations_total", ok)).toBe(before + 1);
    expect(await value("berth_graphql_operation_duration_seconds", ok, "_count")).toBe(timedBefore + 1);

    const invalid = { operation: "anonymous", outcome: "invalid" };
    const invalidBefore = await value("berth_graphql_operations_total", invalid);
    await api.gql("{ noSuchField }");
    expect(await value("berth_graphql_operations_total", invalid)).toBe(invalidBefore + 1);
  });

  it("counts HTTP requests by route template, not by path", async () => {
    const files = { route: "/files/:key", method: "GET" };
    const before = await value("berth_http_requests_total", files);
    await api.fetch("/files/some/key.txt");
    await api.fetch("/files/other.txt");
    expect(await value("berth_http_requests_total", files)).toBe(before + 2);
    const text = await registry.metrics();
    expect(text).not.toContain("some/key.txt");
    expect(await value("berth_http_requests_total", { route: "/healthz", method: "GET", status: "200" })).toBeGreaterThanOrEqual(0);
    await api.fetch("/healthz");
    expect(await value("berth_http_requests_total", { route: "/healthz", method: "GET", status: "200" })).toBeGreaterThanOrEqual(1);
  });

  it("shows open subscriptions in a gauge that falls when they end", async () => {
    const before = await value("berth_graphql_subscriptions_open");
    const abort = new AbortController();
    const response = await api.fetch("/graphql", {
      method: "POST",
      signal: abort.signal,
      headers: { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription Watching { poolChanged { __typename } }" }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => value("berth_graphql_subscriptions_open")).toBe(before + 1);
    // Cancelling the body (after the opening ping, as a client reads it) is a client going away.
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => value("berth_graphql_subscriptions_open"), { timeout: 5000 }).toBe(before);
    abort.abort();
  });

  it("keeps label values bounded: odd and surplus operation names collapse", () => {
    const names = new OperationNames(2);
    expect(names.label(undefined)).toBe("anonymous");
    expect(names.label("a b")).toBe("other");
    expect(names.label("x".repeat(65))).toBe("other");
    expect(names.label("First")).toBe("First");
    expect(names.label("Second")).toBe("Second");
    expect(names.label("Third")).toBe("other");
    expect(names.label("First")).toBe("First");
    expect(routeTemplate("/files/a/b/c")).toBe("/files/:key");
    expect(routeTemplate("/wp-admin/x")).toBe("other");
  });
});
