// Concurrency keys under random interleavings of two processes' work (two Prisma clients, each
// with its own connection pool) on real PostgreSQL. A test-only trigger records every status
// change of a task, numbered by a sequence taken inside the changing statement, and the
// properties are checked on that history and on the state left after the pool settles:
//   - never two active tasks (running, apply_pending, applying) of one key;
//   - a key's tasks start in submission order;
//   - a superseded task never starts;
//   - a busy key holds up no other: once settled, a free slot leaves no runnable task pending,
//     and every task waiting for its key waits behind an active or earlier task of that key.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreContext } from "../../src/context.js";
import { openDatabase, type Database } from "../../src/db/index.js";
import { BerthError } from "../../src/errors.js";
import { createMemoryEventBus } from "../../src/events/index.js";
import { placePending } from "../../src/slots/index.js";
import { approveTask, cancelTask, expireReservations, reportTask, submitTask } from "../../src/tasks/index.js";
import { openCore, seedPool, truncateAll, type CoreHarness } from "../support/core.js";
import { postgresAvailable } from "../support/services.js";

const KEYS = ["alpha", "beta", "gamma"] as const;
const ACTIVE = ["running", "apply_pending", "applying"];

type Command =
  | { op: "submit"; key: string | null; supersede: boolean; plan: boolean }
  | { op: "finish" | "plan" | "approve" | "cancel"; pick: number }
  | { op: "expire" };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("submit" as const), key: fc.constantFrom<string | null>(...KEYS, null), supersede: fc.boolean(), plan: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("finish" as const), pick: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("plan" as const), pick: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("approve" as const), pick: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cancel" as const), pick: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.constant({ op: "expire" as const }) },
);

/** The Nth (mod count) task of the pool in one of `statuses`, as this process sees it now. */
async function pickTask(ctx: CoreContext, statuses: string[], pick: number, type?: string) {
  const tasks = await ctx.prisma.task.findMany({
    where: { status: { in: statuses as never }, ...(type ? { type } : {}) },
    orderBy: { seq: "asc" },
    select: { id: true, podName: true },
  });
  return tasks.length ? tasks[pick % tasks.length]! : null;
}

async function run(ctx: CoreContext, c: Command, unexpected: string[]): Promise<void> {
  try {
    switch (c.op) {
      case "submit":
        await submitTask(ctx, { pool: "keys", type: c.plan ? "plan_and_apply" : "plan", concurrencyKey: c.key, supersede: c.key !== null && c.supersede });
        return;
      case "finish": {
        const t = await pickTask(ctx, ["running", "applying"], c.pick);
        if (t) await reportTask(ctx, { taskId: t.id, pod: t.podName, status: "succeeded" });
        return;
      }
      case "plan": {
        const t = await pickTask(ctx, ["running"], c.pick, "plan_and_apply");
        if (t) await reportTask(ctx, { taskId: t.id, pod: t.podName, status: "apply_pending" });
        return;
      }
      case "approve": {
        const t = await pickTask(ctx, ["apply_pending"], c.pick);
        if (t) await approveTask(ctx, t.id);
        return;
      }
      case "cancel": {
        const t = await pickTask(ctx, ["pending", "running", "apply_pending", "applying"], c.pick);
        if (t) await cancelTask(ctx, t.id);
        return;
      }
      case "expire":
        // Two days on, every reservation (TTL one day) is past its expiry.
        await expireReservations({ ...ctx, now: () => new Date(Date.now() + 2 * 86_400_000) });
        return;
    }
  } catch (error) {
    // Typed errors are answers (the other process moved the task first); anything else is a defect.
    if (!(error instanceof BerthError)) unexpected.push(`${c.op}: ${(error as Error).message.slice(0, 300)}`);
  }
}

interface HistoryRow {
  n: string;
  task: string;
  seq: number;
  key: string | null;
  status: string;
}

describe.skipIf(!postgresAvailable)("concurrency keys: two processes at random on PostgreSQL", () => {
  let h: CoreHarness;
  let second: Database;
  let ctxA: CoreContext;
  let ctxB: CoreContext;

  beforeAll(async () => {
    h = await openCore("postgres", { poolSize: 4, realClock: true });
    second = await openDatabase({ kind: "postgres", url: h.t.url!, poolSize: 4 });
    ctxA = h.ctx;
    ctxB = { prisma: second.prisma, events: createMemoryEventBus(), now: () => new Date() };
    await h.ctx.prisma.$executeRawUnsafe(`CREATE TABLE task_history (n bigserial PRIMARY KEY, task uuid, seq int, key text, status text)`);
    await h.ctx.prisma.$executeRawUnsafe(`CREATE FUNCTION record_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO task_history (task, seq, key, status) VALUES (NEW.id, NEW.seq, NEW."concurrencyKey", NEW.status::text); RETURN NULL; END $$`);
    await h.ctx.prisma.$executeRawUnsafe(`CREATE TRIGGER record_task_status AFTER INSERT OR UPDATE OF status ON "Task" FOR EACH ROW EXECUTE FUNCTION record_task_status()`);
  }, 60_000);

  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it("holds every key property over random interleavings", { timeout: 300_000 }, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 24 }), fc.array(command, { minLength: 4, maxLength: 24 }), async (first, other) => {
        runs++;
        await truncateAll(h.ctx.prisma);
        await h.ctx.prisma.$executeRawUnsafe(`TRUNCATE task_history RESTART IDENTITY`);
        // 2 pods × 2 slots: few enough that tasks queue, so keys and slots both make work wait.
        await seedPool(h.ctx, "keys", 2, 2);
        const unexpected: string[] = [];
        await Promise.all([
          (async () => {
            for (const c of first) await run(ctxA, c, unexpected);
          })(),
          (async () => {
            for (const c of other) await run(ctxB, c, unexpected);
          })(),
        ]);
        await placePending(ctxA, { id: (await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "keys" } })).id, name: "keys" });
        expect(unexpected).toEqual([]);

        const history = await h.ctx.prisma.$queryRawUnsafe<HistoryRow[]>(`SELECT n::text AS n, task::text AS task, seq, key, status FROM task_history ORDER BY task_history.n`);
        // Never two active tasks of one key, at any point of the history.
        const active = new Map<string, Set<string>>();
        const started = new Map<string, number[]>();
        const everStarted = new Set<string>();
        for (const row of history) {
          if (row.key === null) continue;
          const set = active.get(row.key) ?? new Set<string>();
          active.set(row.key, set);
          if (ACTIVE.includes(row.status)) {
            set.add(row.task);
            expect([...set], `key ${row.key} at history #${row.n}`).toHaveLength(1);
          } else set.delete(row.task);
          if (row.status === "running" && !everStarted.has(row.task)) {
            everStarted.add(row.task);
            started.set(row.key, [...(started.get(row.key) ?? []), row.seq]);
          }
        }
        // A key's tasks start in submission order.
        for (const [key, seqs] of started) expect(seqs, `start order of key ${key}`).toEqual([...seqs].sort((x, y) => x - y));

        const tasks = await h.ctx.prisma.task.findMany({ orderBy: { seq: "asc" } });
        // A superseded task never starts.
        for (const t of tasks.filter((x) => x.failureReason === "superseded")) {
          expect(t.startedAt, `superseded task ${t.seq}`).toBeNull();
          expect(history.some((r) => r.task === t.id && r.status === "running")).toBe(false);
        }
        // Settled: with a slot free, nothing runnable is left pending; whatever waits for its key
        // waits behind a task of that same key that is active or earlier in the queue.
        const idle = await h.ctx.prisma.slot.count({ where: { state: "idle" } });
        const pending = tasks.filter((t) => t.status === "pending");
        if (idle > 0) expect(pending.filter((t) => !t.keyBlocked).map((t) => t.seq)).toEqual([]);
        for (const t of pending.filter((x) => x.keyBlocked)) {
          const holder = tasks.find((x) => x.concurrencyKey === t.concurrencyKey && x.id !== t.id && (ACTIVE.includes(x.status) || (x.status === "pending" && x.seq < t.seq)));
          expect(holder, `task ${t.seq} (key ${t.concurrencyKey}) waits behind a task of its key`).toBeDefined();
        }
        // The pods' counters agree with their slots.
        const pods = await h.ctx.prisma.pod.findMany({ include: { slots: true } });
        for (const p of pods) {
          expect(p.busySlots, `busySlots of ${p.name}`).toBe(p.slots.filter((s) => s.state !== "idle").length);
          expect(p.reservedSlots, `reservedSlots of ${p.name}`).toBe(p.slots.filter((s) => s.state === "reserved").length);
        }
      }),
      { numRuns: 25, seed: Number(process.env.BERTH_PROPERTY_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(runs).toBeGreaterThanOrEqual(25);
  });
});
