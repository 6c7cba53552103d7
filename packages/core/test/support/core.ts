import { createMemoryEventBus, isResync, type EventBus, type SlotChanged } from "../../src/events/index.js";
import type { CoreContext } from "../../src/context.js";
import type { PodRuntime, RuntimePod, RuntimePoolSpec } from "../../src/runtime/types.js";
import { openTestDatabase, type Backend, type TestDatabase } from "./databases.js";

/** A clock tests move by hand. */
export class TestClock {
  constructor(public current = new Date("2026-01-01T00:00:00Z")) {}
  now = () => new Date(this.current);
  advance(seconds: number) {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

/**
 * An in-memory runtime that records every call and, on delete, asks `beforeDelete` — the
 * place where tests check that no busy pod is ever deleted. Deletion is graceful, as in
 * Kubernetes: a deleted pod stays listed (terminating) for `graceListings` more listings.
 */
export class FakeRuntime implements PodRuntime {
  readonly kind = "local" as const;
  readonly scope = "fake";
  pods = new Map<string, RuntimePod>();
  calls: { op: string; pod: string }[] = [];
  beforeDelete?: (pod: string) => Promise<void> | void;
  failCreate = false;
  /** How many more listings a deleted pod stays in, terminating. */
  graceListings = 1;
  private readonly leaving = new Map<string, number>();

  private age(): void {
    for (const [name, left] of this.leaving) {
      if (left <= 0) {
        this.leaving.delete(name);
        this.pods.delete(name);
      } else this.leaving.set(name, left - 1);
    }
  }
  async list(pool: RuntimePoolSpec) {
    this.age();
    return [...this.pods.values()].filter((p) => p.pool === pool.name).map((p) => ({ ...p }));
  }
  async listAll() {
    return [...this.pods.values()].map((p) => ({ ...p }));
  }
  async create(pool: RuntimePoolSpec, name: string) {
    this.calls.push({ op: "create", pod: name });
    if (this.failCreate) throw new Error("runtime refused");
    const pod: RuntimePod = { name, pool: pool.name, phase: "Running", createdAt: new Date(), labels: {} };
    this.pods.set(name, this.pods.get(name) ?? pod);
    return this.pods.get(name)!;
  }
  async delete(_pool: RuntimePoolSpec, name: string) {
    await this.beforeDelete?.(name);
    this.calls.push({ op: "delete", pod: name });
    const pod = this.pods.get(name);
    if (!pod || pod.terminating) return;
    if (this.graceListings <= 0) {
      this.pods.delete(name);
      return;
    }
    this.pods.set(name, { ...pod, terminating: true });
    this.leaving.set(name, this.graceListings);
  }
  async *watch() {}
  async close() {}
}

export interface CoreHarness {
  t: TestDatabase;
  ctx: CoreContext;
  clock: TestClock;
  events: EventBus;
  slotEvents: SlotChanged[];
  /** Empties every table and the recorded events, and puts the clock back: a clean slate per test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function truncateAll(prisma: CoreContext["prisma"]): Promise<void> {
  // A statement the previous test left in flight (a heartbeat placing work, a kicked pass) may hold
  // row locks that TRUNCATE's table locks wait on in another order: PostgreSQL then aborts one of
  // them as a deadlock. The slate is cleaned again once that statement has gone.
  for (let attempt = 1; ; attempt++) {
    try {
      await prisma.$executeRawUnsafe(
        `TRUNCATE "ScheduleRun", "Schedule", "SlotAssignment", "Slot", "Task", "Pod", "ScalingEvent", "CronRun", "CronJob", "ApiToken", "Pool" CASCADE`,
      );
      return;
    } catch (error) {
      if (attempt >= 5 || !String((error as Error).message).includes("40P01")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** A fresh database, an in-memory event bus recording slot events of `pools`, and a test clock. */
export async function openCore(backend: Backend, opts: { poolSize?: number; watchPools?: string[]; realClock?: boolean } = {}): Promise<CoreHarness> {
  const t = await openTestDatabase(backend, opts.poolSize);
  const events = createMemoryEventBus();
  const clock = new TestClock();
  const ctx: CoreContext = { prisma: t.db.prisma, events, now: opts.realClock ? () => new Date() : clock.now };
  const slotEvents: SlotChanged[] = [];
  const abort = new AbortController();
  for (const pool of opts.watchPools ?? []) {
    void (async () => {
      for await (const e of events.subscribe(`slot:${pool}`, abort.signal)) if (!isResync(e)) slotEvents.push(e);
    })();
  }
  return {
    t,
    ctx,
    clock,
    events,
    slotEvents,
    reset: async () => {
      await truncateAll(t.db.prisma);
      slotEvents.length = 0;
      clock.current = new TestClock().current;
    },
    close: async () => {
      abort.abort();
      await events.close();
      await t.drop();
    },
  };
}

/** A pool with `pods` Ready pods of `slots` slots each, made directly in the database. */
export async function seedPool(ctx: CoreContext, name: string, pods: number, slots = 3, extra: Record<string, unknown> = {}) {
  const pool = await ctx.prisma.pool.create({ data: { name, slotsPerPod: slots, ...extra } });
  const names: string[] = [];
  for (let i = 0; i < pods; i++) {
    const podName = `${name}-p${i}`;
    await ctx.prisma.pod.create({
      data: {
        name: podName,
        poolId: pool.id,
        phase: "Ready",
        readyAt: ctx.now(),
        lastHeartbeatAt: ctx.now(),
        createdAt: new Date(ctx.now().getTime() + i),
        slots: { create: Array.from({ length: slots }, (_, index) => ({ index })) },
      },
    });
    names.push(podName);
  }
  return { pool, pods: names };
}
