import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { createApiToken, revokeApiToken } from "@berth/core/tokens";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startServer, type StartedServer } from "../src/server.js";
import { STARTUP_TIMEOUT_MS } from "./support/api.js";

interface WsOutcome {
  data?: unknown;
  errors?: unknown;
  closeCode?: number;
}

/** Runs one operation over graphql-ws and reports its result, or the close code if the server hung up. */
function overWebSocket(url: string, query: string, token?: string): Promise<WsOutcome> {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
  return new Promise<WsOutcome>((resolve) => {
    let outcome: WsOutcome = {};
    client.subscribe(
      { query },
      {
        next: (result) => {
          outcome = { data: result.data, errors: result.errors };
        },
        error: (error) => resolve({ closeCode: (error as { code?: number }).code, errors: Array.isArray(error) ? error : undefined }),
        complete: () => resolve(outcome),
      },
    );
  }).finally(() => client.dispose());
}

describe("the API server on a port", () => {
  const adminToken = "server-test-admin-token-0123456789";
  let server: StartedServer;
  let dataDir: string;
  let releaseSlow: () => void = () => {};
  let slowStarted: () => void = () => {};
  const slowHasStarted = new Promise<void>((resolve) => (slowStarted = resolve));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "berth-server-test-"));
    const config = loadConfig({ BERTH_ADMIN_TOKEN: adminToken, BERTH_DATA_DIR: dataDir, BERTH_ENV: "test", API_HOST: "127.0.0.1", LOG_LEVEL: "error" });
    server = await startServer(config, {
      port: 0,
      metricsPort: 0,
      database: { kind: "pglite-memory" },
      // A route that answers only when the test says so: an in-flight request during shutdown.
      routes: {
        files: async () => {
          slowStarted();
          await new Promise<void>((resolve) => (releaseSlow = resolve));
          return new Response("finished");
        },
      },
    });
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    releaseSlow();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const wsUrl = () => `${server.url.replace(/^http/, "ws")}/graphql`;

  it("listens on 127.0.0.1 and serves /healthz and /graphql", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe("ok");
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: "{ me { role } }" }),
    });
    expect(await res.json()).toEqual({ data: { me: { role: "admin" } } });
  });

  it("METRICS_PORT serves /metrics alone, without a token, on a listener of its own; the API port does not", async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    const scraped = await fetch(`${server.metricsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^nodejs_heap_size_total_bytes \d+/m);
    expect((await fetch(`${server.metricsUrl}/graphql`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it("WebSocket: a connection without a token is closed with 4403", async () => {
    expect(await overWebSocket(wsUrl(), "{ me { role } }")).toMatchObject({ closeCode: 4403 });
    expect(await overWebSocket(wsUrl(), "{ me { role } }", "not-a-valid-token-at-all")).toMatchObject({ closeCode: 4403 });
  });

  it("WebSocket: with a token from the connection params, operations run with the same auth and limits as HTTP", async () => {
    expect(await overWebSocket(wsUrl(), "{ me { role } }", adminToken)).toEqual({ data: { me: { role: "admin" } }, errors: undefined });
    const { token, record } = await createApiToken(server.services.prisma, { name: "ws-viewer", role: "viewer" });
    const forbidden = await overWebSocket(wsUrl(), "{ apiTokens { id } }", token);
    expect(forbidden.errors).toEqual([expect.objectContaining({ extensions: { code: "FORBIDDEN" } })]);
    const deep = await overWebSocket(wsUrl(), '{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }', token);
    expect(JSON.stringify(deep)).toContain("QUERY_TOO_DEEP");
    await revokeApiToken(server.services.prisma, record.id);
    expect(await overWebSocket(wsUrl(), "{ me { role } }", token)).toMatchObject({ closeCode: 4403 });
  });

  // Last: it shuts the server down.
  it("close() stops accepting, lets an in-flight request finish, then releases the database", async () => {
    const inFlight = fetch(`${server.url}/files/slow`);
    await slowHasStarted;
    const closed = server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    releaseSlow();
    const response = await inFlight;
    expect(await response.text()).toBe("finished");
    await closed;
    await expect(server.services.db.ping()).rejects.toThrow();
  });
});
