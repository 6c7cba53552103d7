import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/index.js";
import { freshPostgres } from "../support/databases.js";
import { postgresAvailable } from "../support/services.js";

const PROCESSES = 2;
const TASKS_PER_PROCESS = 1000;
const WORKERS_PER_PROCESS = 8;
const PODS = 4;
const SLOTS = 3;
const fixture = fileURLToPath(new URL("./fixtures/load-worker.ts", import.meta.url));

function runWorker(url: string): Promise<{ done: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, url, "load", String(TASKS_PER_PROCESS), String(WORKERS_PER_PROCESS)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split("\n").at(-1)!));
      else reject(new Error(`worker exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

describe.skipIf(!postgresAvailable)("no slot is ever given twice, across OS processes (PostgreSQL)", () => {
  let db: Database;
  let url: string;
  let drop: () => Promise<void>;
  const results: { done: number; ms: number }[] = [];

  beforeAll(async () => {
    ({ url, drop } = await freshPostgres());
    db = await openDatabase({ kind: "postgres", url, poolSize: 4 });
    const pool = await db.prisma.pool.create({ data: { name: "load", slotsPerPod: SLOTS } });
    for (let i = 0; i < PODS; i++) {
      await db.prisma.pod.create({
        data: { name: `load-${i}`, poolId: pool.id, phase: "Ready", lastHeartbeatAt: new Date(), slots: { create: Array.from({ length: SLOTS }, (_, index) => ({ index })) } },
      });
    }
    results.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => runWorker(url)))));
  }, 200_000);
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it("every task ran and ended, and the counts add up", async () => {
    const total = PROCESSES * TASKS_PER_PROCESS;
    expect(results.reduce((n, r) => n + r.done, 0)).toBe(total);
    expect(await db.prisma.task.count()).toBe(total);
    expect(await db.prisma.task.count({ where: { status: "succeeded" } })).toBe(total);
    expect(await db.prisma.slotAssignment.count()).toBe(total);
    expect(await db.prisma.slotAssignment.count({ where: { releasedAt: null } })).toBe(0);
    expect(await db.prisma.slot.count({ where: { state: { not: "idle" } } })).toBe(0);
    console.info(`concurrency: ${PROCESSES} processes × ${WORKERS_PER_PROCESS} workers, ${total} tasks on ${PODS * SLOTS} slots in ${Math.max(...results.map((r) => r.ms))} ms`);
  });

  it("no task held two slots: exactly one assignment per task", async () => {
    const rows = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM (SELECT "taskId" FROM "SlotAssignment" GROUP BY "taskId" HAVING count(*) > 1) x`);
    expect(rows[0]!.n).toBe(0);
  });

  it("no slot ever held two tasks: per slot, each assignment begins after the previous one was released", async () => {
    const overlaps = await db.prisma.$queryRawUnsafe<{ n: number }[]>(`
      SELECT count(*)::int AS n FROM (
        SELECT "assignedSeq", lag("releasedSeq") OVER (PARTITION BY "slotId" ORDER BY "assignedSeq") AS prev_released
        FROM "SlotAssignment"
      ) x WHERE prev_released > "assignedSeq"`);
    expect(overlaps[0]!.n).toBe(0);
    const perSlot = await db.prisma.$queryRawUnsafe<{ slots: number; firsts: number }[]>(`
      SELECT count(DISTINCT "slotId")::int AS slots,
             count(*) FILTER (WHERE prev IS NULL)::int AS firsts
      FROM (SELECT "slotId", lag("releasedSeq") OVER (PARTITION BY "slotId" ORDER BY "assignedSeq") AS prev FROM "SlotAssignment") x`);
    // Only the first assignment of each slot has no predecessor: every other one has a released predecessor.
    expect(perSlot[0]!.firsts).toBe(perSlot[0]!.slots);
    expect(perSlot[0]!.slots).toBe(PODS * SLOTS);
  });
});
