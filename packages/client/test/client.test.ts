// @berth/client against a real API on a port: typed queries, idempotent submitTask retries,
// subscriptions that reconnect and resync, and a revoked token ending them for good.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { createApiToken, revokeApiToken } from "@berth/core/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type StartedServer } from "../../../apps/api/src/server.js";
import { FakeRuntime } from "../../core/test/support/core.js";
import { BerthApiError, BerthMutationError, createBerthClient, type ClientSlotChangedSubscription } from "../src/index.js";

const ADMIN = "client-test-admin-token-0123456789";

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("@berth/client against a real API", () => {
  let server: StartedServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "berth-client-test-"));
    const config = loadConfig({ BERTH_ADMIN_TOKEN: ADMIN, BERTH_DATA_DIR: dataDir, BERTH_ENV: "test", API_HOST: "127.0.0.1", LOG_LEVEL: "error" });
    server = await startServer(config, { port: 0, database: { kind: "pglite-memory" }, runtime: new FakeRuntime() });
    await server.services.pools.createPool({ name: "jobs", minPods: 0, maxPods: 2, autoscale: false });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("queries come back typed", async () => {
    const client = createBerthClient({ url: server.url, token: ADMIN });
    expect(await client.me()).toMatchObject({ name: "bootstrap", role: "admin" });
    const pools = await client.pools();
    expect(pools.map((p) => p.name)).toEqual(["jobs"]);
    expect(pools[0]!.conditions.every((c) => typeof c.status === "string")).toBe(true);
    expect(await client.pool("nope")).toBeNull();
  });

  it("submitTask retried after a lost answer creates one task, with one idempotency key for every attempt", async () => {
    const sentKeys: string[] = [];
    let dropped = 0;
    // The request reaches the API and is committed; its answer is lost on the way back, twice.
    const lossy: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { variables?: { input?: { idempotencyKey?: string } } };
      if (body.variables?.input?.idempotencyKey) sentKeys.push(body.variables.input.idempotencyKey);
      const response = await fetch(input, init);
      if (sentKeys.length > 0 && dropped < 2) {
        dropped++;
        await response.arrayBuffer();
        throw new TypeError("fetch failed: connection reset");
      }
      return response;
    };
    const client = createBerthClient({ url: server.url, token: ADMIN, fetch: lossy, retryDelayMs: 10 });
    const before = await server.services.prisma.task.count();
    const task = await client.submitTask({ pool: "jobs", type: "plan", payload: { n: 1 } });
    expect(task).toMatchObject({ pool: "jobs", type: "plan", payload: { n: 1 } });
    expect(sentKeys).toHaveLength(3);
    expect(new Set(sentKeys).size).toBe(1);
    expect(await server.services.prisma.task.count()).toBe(before + 1);
  });

  it("typed failures of a mutation throw BerthMutationError; a 429 is waited out and retried", async () => {
    const client = createBerthClient({ url: server.url, token: ADMIN });
    const error = await client.submitTask({ pool: "missing", type: "plan" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BerthMutationError);
    expect(error).toMatchObject({ type: "NotFoundError" });

    let limited = 0;
    const busy: typeof fetch = async (input, init) => {
      if (limited++ === 0) {
        const body = JSON.stringify({ errors: [{ message: "too many requests", extensions: { code: "RATE_LIMITED" } }] });
        return new Response(body, { status: 429, headers: { "retry-after": "1", "content-type": "application/json" } });
      }
      return fetch(input, init);
    };
    const started = Date.now();
    const pools = await createBerthClient({ url: server.url, token: ADMIN, fetch: busy }).pools();
    expect(pools).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("watchPool: a snapshot first, then slot changes; after a dropped connection it reconnects and resyncs", async () => {
    // Lets the test cut the current SSE response, as a network failure would.
    const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
    const cuttable: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!(init?.headers as Record<string, string>)?.accept?.includes("text/event-stream") || !response.body) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => void streams.push(controller),
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: () => reader.cancel(),
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const client = createBerthClient({ url: server.url, token: ADMIN, fetch: cuttable, retryDelayMs: 20 });
    const snapshots: (string | null)[] = [];
    const changes: ClientSlotChangedSubscription["slotChanged"][] = [];
    const watch = client.watchPool("jobs", { onSnapshot: (pool) => snapshots.push(pool?.name ?? null), onSlot: (c) => changes.push(c) });
    await until(() => snapshots.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    const publish = (index: number) => server.services.events.publish("slot:jobs", { pool: "jobs", pod: "jobs-x", index, state: "running", taskId: null, at: new Date().toISOString() });
    await publish(0);
    await until(() => changes.length === 1);

    streams.at(-1)!.error(new TypeError("connection reset"));
    await until(() => snapshots.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    await publish(1);
    await until(() => changes.length === 2);
    expect(changes.map((c) => c.index)).toEqual([0, 1]);
    expect(snapshots).toEqual(["jobs", "jobs"]);
    watch.close();
    await watch.done;
  });

  it("a revoked token ends the subscription for good: `done` rejects with TOKEN_REVOKED, no reconnect", async () => {
    const { token, record } = await createApiToken(server.services.prisma, { name: "watcher", role: "viewer" });
    let resyncs = 0;
    const client = createBerthClient({ url: server.url, token, retryDelayMs: 20 });
    const live = client.subscribe((await import("../src/index.js")).ClientPoolChangedDocument, {}, { next: () => {}, resync: () => void resyncs++ });
    await until(() => resyncs === 1);
    await revokeApiToken(server.services.prisma, record.id, { events: server.services.events });
    const error = await live.done.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(BerthApiError);
    expect((error as BerthApiError).codes).toContain("TOKEN_REVOKED");
    await new Promise((r) => setTimeout(r, 200));
    expect(resyncs).toBe(1);
  });
});

describe("@berth/client on SUBSCRIPTION_OVERFLOW", () => {
  it("reconnects and resyncs instead of ending (the frames are yoga's, as the API sends them)", async () => {
    const frames = [
      ':\n\nevent: next\ndata: {"data":{"poolChanged":{"name":"a","podCount":1,"utilization":0,"deleted":false,"at":"t"}}}\n\n' +
        'event: next\ndata: {"errors":[{"message":"this subscriber fell more than 500 events behind","extensions":{"code":"SUBSCRIPTION_OVERFLOW","limit":500}}]}\n\nevent: complete\ndata:\n\n',
      ':\n\nevent: next\ndata: {"data":{"poolChanged":{"name":"b","podCount":2,"utilization":0,"deleted":false,"at":"t"}}}\n\n',
    ];
    let served = 0;
    const scripted: typeof fetch = async () => {
      const text = frames[Math.min(served++, frames.length - 1)]!;
      return new Response(new Blob([text]).stream(), { status: 200, headers: { "content-type": "text/event-stream" } });
    };
    const { ClientPoolChangedDocument } = await import("../src/index.js");
    const names: string[] = [];
    let resyncs = 0;
    const live = createBerthClient({ url: "http://127.0.0.1:1", token: "t", fetch: scripted, retryDelayMs: 5 }).subscribe(ClientPoolChangedDocument, {}, {
      next: (d) => names.push(d.poolChanged.name),
      resync: () => void resyncs++,
    });
    await until(() => names.includes("b"));
    live.close();
    await live.done;
    expect(names.slice(0, 2)).toEqual(["a", "b"]);
    expect(resyncs).toBeGreaterThanOrEqual(2);
  });
});
