// Subscriptions are bounded: per token, per WebSocket connection, and per subscriber queue; a
// reader that falls behind is closed with a reason, and memory does not grow with hostile clients.
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request, type ClientRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { createApiToken } from "@berth/core/tokens";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { watchRss } from "../../../bench/support/rss.js";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { startServer, type StartedServer } from "../src/server.js";
import { STARTUP_TIMEOUT_MS } from "./support/api.js";

const SLOTS = "subscription($pool: String!) { slotChanged(pool: $pool) { pool pod index state } }";
/**
 * Stated bounds on the RSS a hostile client leaves behind (measured after garbage collection,
 * so that what is kept is measured, not what is still to be collected), checked below and
 * printed with the peak.
 */
const PAUSED_READERS_RSS_BOUND_MIB = 48;
const ATTEMPTS_RSS_BOUND_MIB = 48;
const MiB = 1024 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** RSS in MiB once garbage is collected. */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage().rss / MiB;
}

interface RawSse {
  req: ClientRequest;
  response: Promise<IncomingMessage>;
}

// A connection per subscription, none kept alive: reusing a socket the server is closing would be a client-side race.
const noKeepAlive = new Agent({ keepAlive: false, maxSockets: Infinity });

/** An SSE subscription over a plain socket, so a test can stop reading it (a paused reader). */
function rawSubscribe(url: string, token: string, query: string, variables: Record<string, unknown>): RawSse {
  const body = JSON.stringify({ query, variables });
  const req = request(`${url}/graphql`, {
    method: "POST",
    agent: noKeepAlive,
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}`, "content-length": Buffer.byteLength(body) },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  req.end(body);
  return { req, response };
}

/** Everything a response still sends, until it ends. */
async function readAll(res: IncomingMessage, limitMs = 20_000): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  const timer = setTimeout(() => res.destroy(), limitMs);
  try {
    for await (const chunk of res) text += chunk;
  } catch {
    // destroyed by the timer
  } finally {
    clearTimeout(timer);
  }
  return text;
}

describe("subscription limits", () => {
  let server: StartedServer;
  let dataDir: string;
  let viewer: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "berth-subs-test-"));
    const config = loadConfig({
      BERTH_ADMIN_TOKEN: "subs-test-admin-token-0123456789",
      BERTH_DATA_DIR: dataDir,
      BERTH_ENV: "test",
      API_HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      MAX_SUBSCRIPTIONS_PER_CONNECTION: "3",
      SUBSCRIPTION_QUEUE_LIMIT: "200",
      RATE_LIMIT_PER_MINUTE: "100000",
    });
    server = await startServer(config, { port: 0, database: { kind: "pglite-memory" }, runtime: new FakeRuntime() });
    for (const name of ["live", ...Array.from({ length: 20 }, (_, i) => `live-${i}`)]) await server.services.pools.createPool({ name, minPods: 0, maxPods: 1, autoscale: false });
    viewer = (await createApiToken(server.services.prisma, { name: "watcher", role: "viewer" })).token;
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("20 paused readers: each is closed with SUBSCRIPTION_OVERFLOW once it falls behind, and RSS stays bounded", async () => {
    // One pool each, so that no two readers share an execution (and its results).
    const readers = Array.from({ length: 20 }, (_, i) => rawSubscribe(server.url, viewer, SLOTS, { pool: `live-${i}` }));
    onTestFinished(() => readers.forEach((r) => r.req.destroy()));
    const responses = await Promise.all(readers.map((r) => r.response));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    // They read nothing from now on: the sockets fill, then the server must not keep the rest.
    for (const res of responses) res.pause();
    await new Promise((r) => setTimeout(r, 200));

    const before = await settledRss();
    const heapBefore = process.memoryUsage().heapUsed;
    const rss = await watchRss(process.pid);
    const pod = "p".repeat(4096); // ~4 KiB per event and frame
    for (let i = 0; i < 5_000; i++) {
      for (let r = 0; r < 20; r++) await server.services.events.publish(`slot:live-${r}`, { pool: `live-${r}`, pod, index: i, state: "running", taskId: null, at: new Date().toISOString() });
      // Each pool's bus queue is drained by its execution; let them run between rounds, as real publishers are spread in time.
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    const window = await rss.stop();
    const kept = (await settledRss()) - before;
    const heapKept = (process.memoryUsage().heapUsed - heapBefore) / MiB;
    console.log(
      `20 paused readers, 5,000 events of 4 KiB each (400 MiB sent): RSS kept +${kept.toFixed(1)} MiB (bound ${PAUSED_READERS_RSS_BOUND_MIB} MiB; heap +${heapKept.toFixed(1)} MiB), peak +${window.growthMiB.toFixed(1)} MiB (${window.method})`,
    );
    expect(kept).toBeLessThan(PAUSED_READERS_RSS_BOUND_MIB);
    expect(heapKept).toBeLessThan(PAUSED_READERS_RSS_BOUND_MIB);

    // A reader that comes back finds the reason it was closed, then the end of the stream.
    const text = await readAll(responses[0]!);
    expect(text).toContain("SUBSCRIPTION_OVERFLOW");
    expect(text).toMatch(/event: complete\ndata:\s*$/);
    for (const reader of readers) reader.req.destroy();
  }, 120_000);

  it("2,000 subscription attempts by one token: MAX_SUBSCRIPTIONS_PER_TOKEN are served, the rest refused with 429, RSS stays bounded", async () => {
    const before = await settledRss();
    const rss = await watchRss(process.pid);
    const opened: RawSse[] = [];
    onTestFinished(() => opened.forEach((o) => o.req.destroy()));
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const attempts = Array.from({ length: 100 }, () => rawSubscribe(server.url, viewer, SLOTS, { pool: "live" }));
      for (const attempt of attempts) {
        const res = await attempt.response;
        statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
        if (res.statusCode === 200) opened.push(attempt);
        else {
          const body = await readAll(res, 5_000);
          expect(body).toContain("SUBSCRIPTION_LIMIT");
        }
      }
    }
    const window = await rss.stop();
    const kept = (await settledRss()) - before;
    console.log(
      `2,000 subscription attempts (client and server in this process): ${JSON.stringify(Object.fromEntries(statuses))}; RSS kept +${kept.toFixed(1)} MiB (bound ${ATTEMPTS_RSS_BOUND_MIB} MiB), peak +${window.growthMiB.toFixed(1)} MiB (${window.method})`,
    );
    expect(statuses.get(200)).toBe(100);
    expect(statuses.get(429)).toBe(1_900);
    expect(kept).toBeLessThan(ATTEMPTS_RSS_BOUND_MIB);

    // Closing one frees a place.
    opened.pop()!.req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const again = rawSubscribe(server.url, viewer, SLOTS, { pool: "live" });
    expect((await again.response).statusCode).toBe(200);
    for (const o of [...opened, again]) o.req.destroy();
  }, 180_000);

  it("one WebSocket connection holds at most MAX_SUBSCRIPTIONS_PER_CONNECTION subscriptions", async () => {
    const client = createClient({ url: `${server.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${viewer}` } });
    try {
      const outcomes: Promise<string>[] = [];
      for (let i = 0; i < 4; i++) {
        outcomes.push(
          new Promise<string>((resolve) => {
            client.subscribe({ query: SLOTS, variables: { pool: "live" } }, {
              next: () => {},
              error: (error) => resolve(JSON.stringify(error)),
              complete: () => resolve("complete"),
            });
            setTimeout(() => resolve("open"), 1_500);
          }),
        );
      }
      const results = await Promise.all(outcomes);
      expect(results.filter((r) => r === "open")).toHaveLength(3);
      expect(results.filter((r) => r.includes("SUBSCRIPTION_LIMIT"))).toHaveLength(1);
    } finally {
      await client.dispose();
    }
  });
});
