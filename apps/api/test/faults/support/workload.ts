import { setTimeout as sleep } from "node:timers/promises";
import { CallFailedError, type Client, type Endpoint } from "./graphql.js";

const LIVE = ["pending", "running", "apply_pending", "applying"];

/**
 * The agents of a pool's pods, played by the test over the agent protocol: a pod that is
 * waiting for its agent gets registered, a Ready one gets heartbeats. Like a real agent behind a
 * Service, each call goes to whichever API replica answers.
 */
export function startAgents(client: Client, endpoints: Endpoint[], pool: string, opts: { everyMs?: number; maxMs?: number } = {}) {
  let stopped = false;
  const deadline = Date.now() + (opts.maxMs ?? 180_000);
  const loop = (async () => {
    for (let round = 0; !stopped && Date.now() < deadline; round++) {
      try {
        const { pool: p } = await client.callAny(endpoints, "Pool", { name: pool }, undefined, round);
        for (const pod of p?.pods ?? []) {
          if (pod.phase === "Pending" || pod.phase === "Starting") await client.callAny(endpoints, "RegisterAgent", { pod: pod.name }, "registerAgent", round);
          else if (pod.phase === "Ready") await client.callAny(endpoints, "Heartbeat", { pod: pod.name }, "heartbeat", round);
        }
      } catch {
        // Every replica down for a moment: the next round tries again, as an agent's backoff would.
      }
      await sleep(opts.everyMs ?? 1000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Waits until `count` pods of the pool are Ready (the agents above register them). */
export async function waitForReadyPods(client: Client, endpoints: Endpoint[], pool: string, count: number, withinMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { pool: p } = await client.callAny(endpoints, "Pool", { name: pool });
    const ready = (p?.pods ?? []).filter((pod: { phase: string }) => pod.phase === "Ready").map((pod: { name: string }) => pod.name);
    if (ready.length >= count) return ready;
    if (Date.now() > deadline) throw new Error(`only ${ready.length} of ${count} pods of ${pool} became Ready within ${withinMs} ms`);
    await sleep(300);
  }
}

export interface WorkloadResult {
  /** Client reference → task id, for every submit the API acknowledged. */
  acked: Map<string, string>;
  /** Submits still unanswered after their retries: the task may or may not exist, and must not exist twice. */
  ambiguous: Set<string>;
  /** Submits whose answer was lost at least once and that were retried with the same idempotency key. */
  retried: Set<string>;
  /** Tasks this workload saw running and reported succeeded. */
  finished: Set<string>;
  /** Tasks left unfinished when a step gave up; the drain finishes them. */
  unresolved: Set<string>;
}

/**
 * `workers` clients, each submitting a task (payload `{ref}`, idempotency key `ref`), waiting
 * until it runs, holding it for `holdMs`, and reporting it succeeded as the pod's agent would.
 * Submits go round-robin over the endpoints. A submit whose answer was lost is retried with the
 * same key, as a careful client would, until answered or `retryMs` passes; only then is it left
 * ambiguous. The key must keep a retried submit from ever creating a second task.
 */
export function startClients(client: Client, endpoints: Endpoint[], pool: string, opts: { workers: number; holdMs: number; maxMs?: number; retryMs?: number }) {
  const result: WorkloadResult = { acked: new Map(), ambiguous: new Set(), retried: new Set(), finished: new Set(), unresolved: new Set() };
  let stopped = false;
  const deadline = Date.now() + (opts.maxMs ?? 120_000);

  async function submit(ref: string, turn: number): Promise<{ id: string; status: string } | null> {
    const giveUpAt = Date.now() + (opts.retryMs ?? 15_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const input = { pool, type: "fault", payload: { ref }, idempotencyKey: ref };
        const task = await client.call(endpoints[(turn + attempt) % endpoints.length]!, "SubmitTask", { input }, "submitTask");
        result.acked.set(ref, task.id);
        return task;
      } catch (error) {
        // Refused: nothing was sent, so no retry question arises; anything else may have created the task.
        if (!(error instanceof CallFailedError && error.kind === "refused")) result.retried.add(ref);
        if (Date.now() >= giveUpAt) {
          result.ambiguous.add(ref);
          return null;
        }
        await sleep(200);
      }
    }
  }

  async function worker(w: number): Promise<void> {
    for (let n = 0; !stopped && Date.now() < deadline; n++) {
      const turn = w + n;
      const task = await submit(`w${w}-${n}`, turn);
      if (!task) {
        await sleep(100);
        continue;
      }
      let current: { status: string; pod: { name: string } | null } = { status: task.status, pod: null };
      const runBy = Date.now() + 30_000;
      while ((current.status !== "running" || !current.pod) && Date.now() < runBy && !stopped) {
        await sleep(100);
        current = (await client.callAny(endpoints, "Task", { id: task.id }, undefined, turn).catch(() => ({ task: current }))).task ?? current;
      }
      if (current.status !== "running" || !current.pod) {
        result.unresolved.add(task.id);
        continue;
      }
      await sleep(opts.holdMs);
      try {
        await client.callAny(endpoints, "ReportTask", { input: { taskId: task.id, status: "succeeded", pod: current.pod.name } }, "reportTask", turn + 1);
        result.finished.add(task.id);
      } catch {
        result.unresolved.add(task.id);
      }
    }
  }

  const workers = Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return {
    result,
    async stop(): Promise<WorkloadResult> {
      stopped = true;
      await workers;
      return result;
    },
  };
}

/**
 * Finishes what is left in the pool: reports running tasks succeeded and waits for pending ones
 * to be placed (by a transition or the reconcile pass) until no task is live.
 */
export async function drain(client: Client, endpoints: Endpoint[], pool: string, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { tasks } = await client.callAny(endpoints, "Tasks", { pool, status: LIVE, first: 500 });
    if (tasks.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${tasks.length} task(s) of ${pool} still live after ${withinMs} ms: ${JSON.stringify(tasks.slice(0, 5))}`);
    for (const t of tasks as { id: string; status: string; pod: { name: string } | null }[]) {
      if (t.status === "running" && t.pod) {
        await client.callAny(endpoints, "ReportTask", { input: { taskId: t.id, status: "succeeded", pod: t.pod.name } }, "reportTask").catch(() => {});
      }
    }
    await sleep(300);
  }
}

/** Submits one task, waits until it runs, and reports it succeeded as its pod's agent: one full round trip. */
export async function roundTrip(client: Client, endpoint: Endpoint, pool: string, ref: string, withinMs = 20_000): Promise<{ id: string; pod: string }> {
  const deadline = Date.now() + withinMs;
  const submitted = await client.call(endpoint, "SubmitTask", { input: { pool, type: "fault", payload: { ref } } }, "submitTask");
  for (;;) {
    const { task } = await client.call(endpoint, "Task", { id: submitted.id });
    if (task.status === "running" && task.pod) {
      await client.call(endpoint, "ReportTask", { input: { taskId: task.id, status: "succeeded", pod: task.pod.name } }, "reportTask");
      return { id: task.id, pod: task.pod.name };
    }
    if (Date.now() > deadline) throw new Error(`task ${ref} did not run within ${withinMs} ms (${task.status})`);
    await sleep(100);
  }
}
