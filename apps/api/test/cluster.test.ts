// The replica registry on PostgreSQL: two API processes' services on one database each renew
// their row, so `cluster.totalReplicas` counts them; a replica that leaves cleanly is gone at
// once, one that stops beating counts as gone after three heartbeats and is pruned later.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { freshPostgres } from "../../../packages/core/test/support/databases.js";
import { postgresAvailable } from "../../../packages/core/test/support/services.js";
import { createServices, type Services } from "../src/services.js";
import { createBerthYoga } from "../src/yoga.js";
import { STARTUP_TIMEOUT_MS } from "./support/api.js";

const CLUSTER = `{
  cluster {
    mode replicaId totalReplicas configuredReplicas environment
    replicas { id version host mode alive self startedAt lastSeenAt locks { key holder } }
    services { name backend status message latencyMs }
  }
}`;

describe.skipIf(!postgresAvailable)("replica registry (two processes on PostgreSQL)", () => {
  const token = `cluster-test-${randomBytes(12).toString("hex")}`;
  let url: string;
  let drop: () => Promise<void>;
  let dir: string;
  let a: Services;
  let b: Services | undefined;

  const open = async (id: string) => {
    const config = loadConfig({ BERTH_ADMIN_TOKEN: token, BERTH_DATA_DIR: join(dir, id), BERTH_ENV: "test", LOG_LEVEL: "error", REPLICA_ID: id, REPLICA_HEARTBEAT_SECONDS: "1" });
    return createServices(config, { database: { kind: "postgres", url, poolSize: 3 }, runtime: new FakeRuntime() });
  };
  const cluster = async (services: Services) => {
    const response = await createBerthYoga(services).fetch("http://berth.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: CLUSTER }),
    });
    const body = (await response.json()) as { data: { cluster: Record<string, unknown> & { replicas: Record<string, unknown>[]; services: Record<string, unknown>[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data.cluster;
  };

  beforeAll(async () => {
    const db = await freshPostgres();
    url = db.url;
    drop = db.drop;
    dir = await mkdtemp(join(tmpdir(), "berth-cluster-"));
    a = await open("replica-a");
    b = await open("replica-b");
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await drop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("both replicas are counted, each says which one it is, and a lock shows under its holder", async () => {
    const lock = await b!.locks.acquire("cluster-test-lock", 30_000);
    expect(lock).not.toBeNull();
    const seen = await cluster(a);
    expect(seen.totalReplicas).toBe(2);
    expect(seen.configuredReplicas).toBe(1);
    expect(seen.replicaId).toBe("replica-a");
    const byId = new Map(seen.replicas.map((r) => [r.id, r]));
    expect([...byId.keys()].sort()).toEqual(["replica-a", "replica-b"]);
    expect(byId.get("replica-a")).toMatchObject({ alive: true, self: true, mode: "local", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(byId.get("replica-b")).toMatchObject({ alive: true, self: false });
    // Each replica here keeps its locks in its own memory (no Redis): B lists B's lock under B.
    const fromB = await cluster(b!);
    expect(fromB.replicas.find((r) => r.id === "replica-b")!.locks).toEqual([{ key: "cluster-test-lock", holder: "replica-b" }]);
    await lock!.release();
  });

  it("reports database, Redis and storage with their backends", async () => {
    const seen = await cluster(a);
    expect(seen.services).toEqual([
      expect.objectContaining({ name: "database", backend: "postgres", status: "ok" }),
      expect.objectContaining({ name: "redis", backend: "none", status: "unused" }),
      expect.objectContaining({ name: "storage", backend: "local", status: "ok" }),
    ]);
  });

  it("a replica that stops beating counts as gone after three heartbeats and is pruned later; one that leaves cleanly is gone at once", async () => {
    // B stops beating (as if killed): its row ages past three heartbeats.
    await a.prisma.replica.update({ where: { id: "replica-b" }, data: { lastSeenAt: new Date(Date.now() - 4_000) } });
    let seen = await cluster(a);
    expect(seen.totalReplicas).toBe(1);
    expect(seen.replicas.find((r) => r.id === "replica-b")).toMatchObject({ alive: false });
    // Long gone: the next heartbeat of A (every second) prunes it. B's own timer is stopped first.
    await b!.close();
    b = undefined;
    expect(await a.prisma.replica.findUnique({ where: { id: "replica-b" } })).toBeNull();
    await a.prisma.replica.create({ data: { id: "replica-c", version: "0.0.0", startedAt: new Date(0), lastSeenAt: new Date(Date.now() - 3_600_000), mode: "local", host: "h" } });
    await expect.poll(async () => (await a.prisma.replica.findMany()).map((r) => r.id), { timeout: 5_000 }).toEqual(["replica-a"]);
    seen = await cluster(a);
    expect(seen.totalReplicas).toBe(1);
    expect(seen.replicas.map((r) => r.id)).toEqual(["replica-a"]);
  });
});
