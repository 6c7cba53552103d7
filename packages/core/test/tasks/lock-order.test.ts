// Every path that locks tasks, slots, pods and pools, run at once against PostgreSQL for a few
// seconds: allocate, finish, keyed submissions (with supersede) whose ends unblock the next of
// their key, cancel (with its stop), approve, expire, deadlines, mark Lost,
// drain (scale down), delete a pool, agents' syncs, and task logs appended and moved to storage. With one lock order no deadlock may
// occur: none reaches a caller, and none had to be retried.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeat, registerAgent, syncAgent } from "../../src/agents/index.js";
import { dbRetries } from "../../src/db/index.js";
import { BerthError } from "../../src/errors.js";
import { appendTaskLog, archiveEndedLogs } from "../../src/logs/index.js";
import { PoolController } from "../../src/pools/index.js";
import { createLocalStorage } from "../../src/storage/local.js";
import { approveTask, cancelTask, enforceDeadlines, expireReservations, reportTask, submitTask } from "../../src/tasks/index.js";
import { FakeRuntime, openCore, type CoreHarness } from "../support/core.js";
import { postgresAvailable } from "../support/services.js";

/** Every path runs at least this often, for at least MIN_MS and at most MAX_MS. */
const MIN_RUNS = 3;
const MIN_MS = 6000;
const MAX_MS = 40_000;

async function counter(reason: string): Promise<number> {
  const metric = await dbRetries.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe.skipIf(!postgresAvailable)("one lock order: every locking path at once on PostgreSQL", () => {
  let h: CoreHarness;
  let controller: PoolController;
  const runtime = new FakeRuntime();
  runtime.graceListings = 0;
  const unexpected: string[] = [];
  const counts: Record<string, number> = {};
  let deadlocksBefore = 0;
  let serializationBefore = 0;
  let storageRoot = "";

  beforeAll(async () => {
    h = await openCore("postgres", { poolSize: 16, realClock: true });
    controller = new PoolController(h.ctx, { runtimes: { local: runtime }, heartbeatTimeoutSeconds: 30, guardWaitMs: 30_000, startedAt: new Date(0) });
    deadlocksBefore = await counter("deadlock");
    serializationBefore = await counter("serialization");
    await controller.createPool({ name: "busy", minPods: 4, maxPods: 8, slotsPerPod: 3, autoscale: false, reservationTtlSeconds: 1, taskTimeoutSeconds: 2 });
    await controller.reconcileAll();
    const up = async () => {
      for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: { in: ["Starting", "Ready", "Draining"] } } })) {
        await (p.phase === "Starting" ? registerAgent(h.ctx, p.name) : heartbeat(h.ctx, p.name)).catch(() => {});
      }
    };
    await up();
    storageRoot = await mkdtemp(join(tmpdir(), "berth-lock-order-"));
    const storage = createLocalStorage({ root: storageRoot, maxUploadBytes: 1024 ** 3, publicBaseUrl: "http://127.0.0.1" });

    const began = Date.now();
    const required = ["submit and finish", "keyed submit, supersede and finish", "cancel what runs, its agent confirming the stop", "plan, approve, apply", "syncs", "mark a pod Lost, then pass", "scale down and up (drain)", "create, load and delete a pool", "append task logs"];
    const enough = () => Date.now() - began > MAX_MS || (Date.now() - began > MIN_MS && required.every((w) => (counts[w] ?? 0) >= MIN_RUNS));
    const note = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
    const guard = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        note(what);
      } catch (error) {
        // Typed errors are answers (a task already ended, a pod gone): only the rest counts.
        if (!(error instanceof BerthError) || /deadlock/i.test((error as Error).message)) unexpected.push(`${what}: ${(error as Error).message.trim().slice(0, 300)}`);
      }
    };
    const loop = (what: string, step: (i: number) => Promise<unknown>) =>
      (async () => {
        for (let i = 0; !enough() && i < 100_000; i++) await guard(what, () => step(i));
      })();
    const running = async () => h.ctx.prisma.task.findMany({ where: { status: { in: ["running", "applying"] } }, take: 10, orderBy: { seq: "desc" } });

    await Promise.all([
      loop("agents up", async () => {
        await up();
        await new Promise((r) => setTimeout(r, 50));
      }),
      ...[0, 1, 2].map(() =>
        loop("submit and finish", async () => {
          const t = await submitTask(h.ctx, { pool: "busy", type: "plan" });
          if (t.podName) await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "succeeded" });
        }),
      ),
      ...[0, 1].map(() =>
        loop("keyed submit, supersede and finish", async (i) => {
          // Few keys, so submissions, supersedes and ends of one key's holder meet on its lock.
          const t = await submitTask(h.ctx, { pool: "busy", type: i % 3 === 0 ? "plan_and_apply" : "plan", concurrencyKey: `ws-${i % 3}`, supersede: i % 4 === 0 });
          const now = await h.ctx.prisma.task.findUnique({ where: { id: t.id } });
          if (now?.podName && now.status === "running") await reportTask(h.ctx, { taskId: t.id, pod: now.podName, status: i % 5 === 0 ? "failed" : "succeeded" });
          else if (i % 7 === 0) await cancelTask(h.ctx, t.id);
        }),
      ),
      loop("cancel what runs, its agent confirming the stop", async () => {
        const t = await submitTask(h.ctx, { pool: "busy", type: "plan" });
        if (!t.podName) return cancelTask(h.ctx, t.id);
        await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "running" });
        await cancelTask(h.ctx, t.id);
        await syncAgent(h.ctx, { pod: t.podName, active: [] });
      }),
      loop("plan, approve, apply", async () => {
        const t = await submitTask(h.ctx, { pool: "busy", type: "plan_and_apply" });
        if (!t.podName) return;
        await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "apply_pending" });
        await approveTask(h.ctx, t.id);
        await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "succeeded" });
      }),
      loop("plans left to expire", async () => {
        const t = await submitTask(h.ctx, { pool: "busy", type: "plan_and_apply" });
        if (t.podName) await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "apply_pending" });
        await new Promise((r) => setTimeout(r, 100));
      }),
      loop("expire and deadlines", async () => {
        await expireReservations(h.ctx);
        await enforceDeadlines(h.ctx);
        await new Promise((r) => setTimeout(r, 100));
      }),
      loop("cancel at random", async () => {
        const [t] = await running();
        if (t) await cancelTask(h.ctx, t.id);
      }),
      loop("append task logs", async (i) => {
        for (const t of await running()) {
          const log = await h.ctx.prisma.taskLog.findUnique({ where: { taskId: t.id }, select: { size: true } });
          await guard("append task logs", () => appendTaskLog(h.ctx, { taskId: t.id, pod: t.podName ?? "", offset: Number(log?.size ?? 0), data: `line ${i}\n` }, { maxBytes: 4096 }));
        }
      }),
      loop("move ended logs to storage", async () => {
        await archiveEndedLogs(h.ctx, storage);
        await new Promise((r) => setTimeout(r, 100));
      }),
      loop("syncs", async () => {
        for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" }, include: { slots: true } })) {
          await syncAgent(h.ctx, { pod: p.name, active: p.slots.flatMap((s) => (s.taskId && Math.random() < 0.5 ? [s.taskId] : [])) });
        }
      }),
      loop("mark a pod Lost, then pass", async () => {
        const pod = await h.ctx.prisma.pod.findFirst({ where: { phase: "Ready", pool: { name: "busy" } }, orderBy: { createdAt: "asc" } });
        if (pod) await h.ctx.prisma.pod.updateMany({ where: { id: pod.id }, data: { lastHeartbeatAt: new Date(Date.now() - 60_000) } });
        await controller.reconcileAll();
        await new Promise((r) => setTimeout(r, 400));
      }),
      loop("scale down and up (drain)", async (i) => {
        await controller.scalePool("busy", i % 2 === 0 ? 4 : 8);
        await new Promise((r) => setTimeout(r, 200));
      }),
      loop("create, load and delete a pool", async (i) => {
        const name = `doomed-${i}`;
        await controller.createPool({ name, minPods: 1, maxPods: 1, autoscale: false });
        await controller.scalePool(name, 1);
        for (const p of await h.ctx.prisma.pod.findMany({ where: { pool: { name } } })) await registerAgent(h.ctx, p.name).catch(() => {});
        const t = await submitTask(h.ctx, { pool: name, type: "plan" });
        if (t.podName) await reportTask(h.ctx, { taskId: t.id, pod: t.podName, status: "succeeded" });
        await submitTask(h.ctx, { pool: name, type: "plan" });
        await controller.deletePool(name).catch(async (error: Error) => {
          // Still busy: end its work and delete again.
          for (const x of await h.ctx.prisma.task.findMany({ where: { pool: { name }, status: { in: ["running", "applying", "apply_pending"] } } })) await cancelTask(h.ctx, x.id);
          await syncAgent(h.ctx, { pod: t.podName ?? "", active: [] }).catch(() => {});
          await controller.reconcileAll();
          throw error;
        });
      }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    if (storageRoot) await rm(storageRoot, { recursive: true, force: true });
  });

  it("every path ran, concurrently, many times", () => {
    console.log(`lock order: ${JSON.stringify(counts)}`);
    for (const what of ["submit and finish", "keyed submit, supersede and finish", "cancel what runs, its agent confirming the stop", "plan, approve, apply", "syncs", "mark a pod Lost, then pass", "scale down and up (drain)", "create, load and delete a pool", "append task logs"]) {
      expect(counts[what] ?? 0, what).toBeGreaterThanOrEqual(MIN_RUNS);
    }
  });

  it("no deadlock or other unexpected error reached a caller", () => {
    expect(unexpected).toEqual([]);
  });

  it("no transaction had to be retried for a deadlock", async () => {
    expect((await counter("deadlock")) - deadlocksBefore).toBe(0);
    console.log(`lock order: serialization retries ${(await counter("serialization")) - serializationBefore}`);
  });
});
