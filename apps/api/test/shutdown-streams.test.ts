import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { afterAll, expect, it } from "vitest";
import { startServer } from "../src/server.js";
import { STARTUP_TIMEOUT_MS } from "./support/api.js";

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it(
  "shutting down ends open SSE subscriptions with SERVER_SHUTTING_DOWN instead of waiting out the grace period",
  async () => {
    dataDir = await mkdtemp(join(tmpdir(), "berth-shutdown-test-"));
    const token = "shutdown-test-admin-token-0123456789";
    const config = loadConfig({ BERTH_ADMIN_TOKEN: token, BERTH_DATA_DIR: dataDir, BERTH_ENV: "test", API_HOST: "127.0.0.1", LOG_LEVEL: "error" });
    const server = await startServer(config, { port: 0, database: { kind: "pglite-memory" } });
    const stream = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription { poolChanged { __typename } }" }),
    });
    expect(stream.status).toBe(200);
    const text = stream.text();
    await expect.poll(() => server.services.subscriptions.count()).toBe(1);

    const started = performance.now();
    await server.close();
    // The grace period for other requests is 10 s; a stream is not waited for at all.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await text).toContain("SERVER_SHUTTING_DOWN");
  },
  STARTUP_TIMEOUT_MS + 20_000,
);
