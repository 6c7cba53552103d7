// The two ways of taking a slot that the slot-allocation benchmark compares, and the client
// loops that time them. Used by the worker processes and, for one client, in-process.
//   core: allocateOnce from packages/core (oldest pending task → best idle slot, audit row, events)
//   raw:  one UPDATE ... FOR UPDATE SKIP LOCKED claiming an idle slot for the client's own task, nothing else
import { performance } from "node:perf_hooks";
import pg from "pg";
import type { CoreContext } from "@berth/core/context";
import { openDatabase } from "@berth/core/db";
import { createMemoryEventBus } from "@berth/core/events";
import { allocateOnce } from "@berth/core/slots";
import { finishRunningTask } from "@berth/core/tasks";

export interface StepConfig {
  mode: "core" | "raw";
  url: string;
  pool: { id: string; name: string };
  clients: number;
}

/** `allocate` returns what `release` needs, or null when nothing could be placed. */
export interface AllocationStep {
  allocate(client: number): Promise<string | null>;
  release(handle: string): Promise<void>;
  close(): Promise<void>;
}

export interface ClientsResult {
  latenciesMs: number[];
  /** Attempts that found no task or no free slot. */
  empty: number;
  errors: string[];
}

const CLAIM_SLOT = `
UPDATE "Slot" SET state = 'running', "taskId" = $2::uuid, "updatedAt" = now()
WHERE id = (
  SELECT s.id FROM "Slot" s JOIN "Pod" p ON p.id = s."podId"
  WHERE p."poolId" = $1::uuid AND p.phase = 'Ready' AND s.state = 'idle'
  LIMIT 1
  FOR UPDATE OF s SKIP LOCKED
)
RETURNING id`;
const FREE_SLOT = `UPDATE "Slot" SET state = 'idle', "taskId" = NULL, "updatedAt" = now() WHERE id = $1::uuid`;
// A running slot must name its task (a CHECK constraint): each raw client holds one task of its own.
const CLIENT_TASK = `INSERT INTO "Task" (id, "poolId", type, "updatedAt") VALUES (gen_random_uuid(), $1::uuid, 'bench-raw', now()) RETURNING id`;

async function coreStep(config: StepConfig): Promise<AllocationStep> {
  const db = await openDatabase({ kind: "postgres", url: config.url, poolSize: config.clients });
  const ctx: CoreContext = { prisma: db.prisma, events: createMemoryEventBus(), now: () => new Date() };
  return {
    allocate: async () => (await allocateOnce(ctx, config.pool))?.taskId ?? null,
    // What reportTask(succeeded) does, without placing the next task: here the next allocation is the loop's to time.
    release: async (taskId) => {
      if (!(await finishRunningTask(ctx, { taskId, status: "succeeded" }, { placeNext: false }))) throw new Error(`task ${taskId} was not running`);
    },
    close: () => db.close(),
  };
}

async function rawStep(config: StepConfig): Promise<AllocationStep> {
  const pool = new pg.Pool({ connectionString: config.url, max: config.clients });
  const tasks: string[] = [];
  for (let i = 0; i < config.clients; i++) tasks.push((await pool.query<{ id: string }>(CLIENT_TASK, [config.pool.id])).rows[0]!.id);
  return {
    allocate: async (client) => (await pool.query<{ id: string }>(CLAIM_SLOT, [config.pool.id, tasks[client]])).rows[0]?.id ?? null,
    release: async (slotId) => {
      await pool.query(FREE_SLOT, [slotId]);
    },
    close: () => pool.end(),
  };
}

export const allocationStep = (config: StepConfig): Promise<AllocationStep> => (config.mode === "core" ? coreStep(config) : rawStep(config));

/** Opens every connection and exercises the statements before anything is timed. */
export async function warmUp(step: AllocationStep, clients: number, perClient: number): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < perClient; i++) {
        const handle = await step.allocate(client);
        if (handle) await step.release(handle);
      }
    }),
  );
}

/** `clients` concurrent loops of allocate (timed) then release (not timed), until `deadline` (Date.now() ms) or `maxPerClient`. */
export async function runClients(step: AllocationStep, clients: number, limits: { deadline: number; maxPerClient: number }): Promise<ClientsResult> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let empty = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      let emptyInARow = 0;
      for (let i = 0; i < limits.maxPerClient && Date.now() < limits.deadline; i++) {
        try {
          const started = performance.now();
          const handle = await step.allocate(client);
          const ms = performance.now() - started;
          if (!handle) {
            empty++;
            // The queue of pending tasks ran out (or every slot is taken): nothing left to measure.
            if (++emptyInARow >= 3) return;
            continue;
          }
          emptyInARow = 0;
          latenciesMs.push(ms);
          await step.release(handle);
        } catch (error) {
          if (errors.length < 5) errors.push(String((error as Error)?.message ?? error).split("\n")[0]!);
          if (errors.length >= 5) return;
        }
      }
    }),
  );
  return { latenciesMs, empty, errors };
}
