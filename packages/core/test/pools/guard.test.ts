// One actor per pool, fenced where it acts: two controllers as two replicas (their own Redis
// lock services and database connections) on PostgreSQL.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/index.js";
import { createMemoryEventBus } from "../../src/events/index.js";
import { createRedisLockService, type LockService } from "../../src/locks/index.js";
import { PoolController } from "../../src/pools/index.js";
import type { RuntimePoolSpec } from "../../src/runtime/types.js";
import { deleteKeys } from "../locks/redis-keys.js";
import { FakeRuntime } from "../support/core.js";
import { freshPostgres } from "../support/databases.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../support/services.js";

/** A runtime whose `list` (or `create`) waits at a gate the test opens: a pass paused in the middle. */
class GatedRuntime extends FakeRuntime {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  entered = false;
  constructor(private readonly at: "list" | "create") {
    super();
  }
  closeGate() {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  openGate() {
    this.open?.();
    this.gate = null;
  }
  private async pause(op: "list" | "create") {
    if (op !== this.at) return;
    this.entered = true;
    if (this.gate) await this.gate;
  }
  override async list(pool: RuntimePoolSpec) {
    await this.pause("list");
    return super.list(pool);
  }
  override async create(pool: RuntimePoolSpec, name: string) {
    const created = super.create(pool, name);
    await this.pause("create");
    return created;
  }
}

describe.skipIf(!postgresAvailable || !redisAvailable)("the pool guard: one actor per pool, fenced in the database", () => {
  const prefix = `berth-guard-${randomBytes(4).toString("hex")}:`;
  let fresh: { url: string; drop: () => Promise<void> };
  let dbA: Database;
  let dbB: Database;
  let redisA: Redis;
  let redisB: Redis;
  let locksA: LockService;
  let locksB: LockService;

  beforeAll(async () => {
    fresh = await freshPostgres();
    dbA = await openDatabase({ kind: "postgres", url: fresh.url, poolSize: 4 });
    dbB = await openDatabase({ kind: "postgres", url: fresh.url, poolSize: 4 });
    redisA = new Redis(REDIS_URL);
    redisB = new Redis(REDIS_URL);
    locksA = createRedisLockService(redisA, { replicaId: "replica-a", prefix });
    locksB = createRedisLockService(redisB, { replicaId: "replica-b", prefix });
  });
  afterEach(async () => {
    await dbA.prisma.$executeRawUnsafe(`TRUNCATE "SlotAssignment", "Slot", "Task", "Pod", "ScalingEvent", "Pool" CASCADE`);
  });
  afterAll(async () => {
    await locksA?.close();
    await locksB?.close();
    await deleteKeys(redisA, prefix).catch(() => {});
    redisA?.disconnect();
    redisB?.disconnect();
    await dbA?.close();
    await dbB?.close();
    await fresh?.drop();
  });

  const replica = (db: Database, locks: LockService, runtime: FakeRuntime) =>
    new PoolController({ prisma: db.prisma, events: createMemoryEventBus(), now: () => new Date() }, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30, locks, guardWaitMs: 20_000 });

  it("a replica whose pool lock is taken over mid-pass performs no act after the theft", async () => {
    const runtimeA = new GatedRuntime("create");
    const runtimeB = new FakeRuntime();
    runtimeB.pods = runtimeA.pods;
    const a = replica(dbA, locksA, runtimeA);
    const b = replica(dbB, locksB, runtimeB);
    const pool = await a.createPool({ name: "fenced", minPods: 2, maxPods: 4, autoscale: false });

    runtimeA.closeGate();
    const passA = a.reconcileAll();
    while (!runtimeA.entered) await new Promise((r) => setTimeout(r, 10));
    // A is inside its pass, holding the guard, creating the first of the two pods minPods asks
    // for. Its lock is lost (as when a paused process's key expires) and replica B takes the pool
    // over: it sees A's first pod and creates the second.
    await redisA.del(`${prefix}lock:pool:${pool.id}`);
    const [reportB] = await b.reconcileAll();
    expect(reportB!.created).toHaveLength(1);
    const theftOver = runtimeA.calls.length;

    runtimeA.openGate();
    const [reportA] = await passA;
    // A goes on to its second pod: the database refuses the act (B's fencing token is newer), so
    // neither a row nor a runtime pod comes of it.
    expect(reportA!.errors.join(" ")).toMatch(/lost the guard of pool fenced/);
    expect(runtimeA.calls.slice(theftOver)).toEqual([]);
    expect(await dbA.prisma.pod.count({ where: { poolId: pool.id } })).toBe(2);
    expect(runtimeA.pods.size).toBe(2);
  });

  it("scalePool on one replica during a pass on another creates exactly the requested pods", async () => {
    const runtimeA = new FakeRuntime();
    const runtimeB = new GatedRuntime("list");
    runtimeA.pods = runtimeB.pods;
    const a = replica(dbA, locksA, runtimeA);
    const b = replica(dbB, locksB, runtimeB);
    await a.createPool({ name: "racing", minPods: 1, maxPods: 5, autoscale: false });

    runtimeB.closeGate();
    const passB = b.reconcileAll();
    while (!runtimeB.entered) await new Promise((r) => setTimeout(r, 10));
    // B's pass will create the one pod minPods asks for; A's scale to 3 waits for the guard.
    const scaling = a.scalePool("racing", 3);
    await new Promise((r) => setTimeout(r, 300));
    runtimeB.openGate();
    const [reportB] = await passB;
    const result = await scaling;
    expect(reportB!.created).toHaveLength(1);
    expect(result).toMatchObject({ requested: 3, podCount: 3, applied: 2 });
    expect(await dbA.prisma.pod.count({ where: { phase: { notIn: ["Lost", "Terminating"] } } })).toBe(3);
  });
});
