import { setTimeout as sleep } from "node:timers/promises";
import type { FakeKubeApi } from "../../../../../packages/core/test/runtime/fake-kube-api.js";
import { CallFailedError, type Client, type Endpoint } from "./graphql.js";
import { FakeKubelet } from "./kubelet.js";
import { ServiceProxy } from "./service.js";

const LIVE = ["pending", "running", "apply_pending", "applying"];

/**
 * The pods' agents: the real agent (@berth/agent) for each pod of the fake cluster (run by its kubelet in
 * this process), reaching the replicas through a Service, so that every task is really received
 * by an agent (by its event, or by its sync when the event is lost) and really worked on.
 */
export async function startPodAgents(kube: { api: FakeKubeApi }, replicas: () => Endpoint[], opts: { heartbeatMs?: number } = {}) {
  const service = await new ServiceProxy(() => replicas().map((r) => r.url)).start();
  const kubelet = new FakeKubelet(kube.api, { apiUrl: service.url, heartbeatMs: opts.heartbeatMs ?? 500 });
  return {
    kubelet,
    service,
    async stop() {
      kubelet.killAll();
      await service.stop();
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
  /** Tasks this workload saw its agents run and report succeeded. */
  finished: Set<string>;
  /** Tasks left unfinished when a step gave up; the drain finishes them. */
  unresolved: Set<string>;
}

/**
 * `workers` clients, each submitting a task (payload `{ref, durationMs: holdMs}`, idempotency key
 * `ref`) and waiting until its agent has done the work and reported it. Submits go round-robin
 * over the endpoints. A submit whose answer was lost is retried with the same key, as a careful
 * client would, until answered or `retryMs` passes; only then is it left ambiguous. The key must
 * keep a retried submit from ever creating a second task.
 */
export function startClients(client: Client, endpoints: Endpoint[], pool: string, opts: { workers: number; holdMs: number; maxMs?: number; retryMs?: number }) {
  const result: WorkloadResult = { acked: new Map(), ambiguous: new Set(), retried: new Set(), finished: new Set(), unresolved: new Set() };
  let stopped = false;
  const deadline = Date.now() + (opts.maxMs ?? 120_000);

  async function submit(ref: string, turn: number): Promise<{ id: string; status: string } | null> {
    const giveUpAt = Date.now() + (opts.retryMs ?? 15_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const input = { pool, type: "fault", payload: { ref, durationMs: opts.holdMs }, idempotencyKey: ref };
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
      let status = task.status;
      const doneBy = Date.now() + 60_000;
      while (LIVE.includes(status) && Date.now() < doneBy && !stopped) {
        await sleep(100);
        status = (await client.callAny(endpoints, "Task", { id: task.id }, undefined, turn).catch(() => ({ task: { status } }))).task?.status ?? status;
      }
      if (status === "succeeded") result.finished.add(task.id);
      else result.unresolved.add(task.id);
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

/** Waits until the agents have finished what is left in the pool: no task live. */
export async function drain(client: Client, endpoints: Endpoint[], pool: string, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { tasks } = await client.callAny(endpoints, "Tasks", { pool, status: LIVE, first: 500 });
    if (tasks.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${tasks.length} task(s) of ${pool} still live after ${withinMs} ms: ${JSON.stringify(tasks.slice(0, 5))}`);
    await sleep(300);
  }
}

/** Submits one task and waits until its agent has run it and reported it succeeded: one full round trip. */
export async function roundTrip(client: Client, endpoint: Endpoint, pool: string, ref: string, withinMs = 20_000): Promise<{ id: string; pod: string }> {
  const deadline = Date.now() + withinMs;
  const submitted = await client.call(endpoint, "SubmitTask", { input: { pool, type: "fault", payload: { ref, durationMs: 20 } } }, "submitTask");
  let pod: string | null = null;
  for (;;) {
    const { task } = await client.call(endpoint, "Task", { id: submitted.id });
    pod = task.pod?.name ?? pod;
    if (task.status === "succeeded" && pod) return { id: task.id, pod };
    if (task.status !== "pending" && task.status !== "running") throw new Error(`task ${ref} ended ${task.status}: ${task.error}`);
    if (Date.now() > deadline) throw new Error(`task ${ref} did not finish within ${withinMs} ms (${task.status})`);
    await sleep(50);
  }
}
