/**
 * Berth's demo agent: what runs inside each pod of the `local` runtime (and in the demo image).
 * It speaks to the API only through the public GraphQL operations, as any agent would:
 * register, heartbeat, follow its assignments, report progress. Environment:
 * BERTH_API_URL, BERTH_AGENT_TOKEN, BERTH_POD_NAME (required), BERTH_POOL, BERTH_SLOTS,
 * BERTH_HEARTBEAT_MS (default 5000), BERTH_SHUTDOWN_GRACE_MS (default 3000).
 *
 * Task payload: `{ durationMs = 2000, fail = false }`. A `plan_and_apply` task plans for
 * durationMs, reports `apply_pending` with a plan, waits for approval (`applying`), applies for
 * durationMs. On SIGTERM it takes no more work, lets running work finish within the grace
 * period, abandons the rest, and exits 0.
 */
import { fileURLToPath } from "node:url";
import { AgentClient, type AssignedTask, type MutationResult, type ReportedStatus } from "./agent-client.js";
import { createBackoff, sleep, type Backoff } from "./backoff.js";

export interface DemoAgentOptions {
  apiUrl: string;
  token: string;
  pod: string;
  heartbeatMs?: number;
  shutdownGraceMs?: number;
  /** Delays between retries (registration, reports) and subscription reconnects. */
  retry?: Backoff;
  log?: (line: string) => void;
}

export interface DemoAgent {
  /** Ids of the tasks this agent is working on right now. */
  activeTasks(): string[];
  /** Stops taking work, gives running work the grace period, then abandons it. */
  stop(): Promise<void>;
}

/** A required variable of the agent is missing or malformed. */
export class AgentConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly got: string | undefined,
  ) {
    super(`${variable}=${JSON.stringify(got ?? "")} is invalid or missing`);
    this.name = "AgentConfigError";
  }
}

const DEFAULT_DURATION_MS = 2000;
/** Finished task ids remembered so that a re-sent assignment (after a reconnect) is not run again. */
const REMEMBERED_TASKS = 1000;

type Phase = "planning" | "awaiting_approval" | "applying" | "done";
type TaskEntry = { phase: Phase; cancel: AbortController; work: Promise<void> };

export function demoAgentOptionsFromEnv(env: Record<string, string | undefined>): DemoAgentOptions {
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new AgentConfigError(name, value);
    return value;
  };
  const ms = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new AgentConfigError(name, value);
    return n;
  };
  const apiUrl = need("BERTH_API_URL");
  if (!URL.canParse(apiUrl)) throw new AgentConfigError("BERTH_API_URL", apiUrl);
  return {
    apiUrl,
    token: need("BERTH_AGENT_TOKEN"),
    pod: need("BERTH_POD_NAME"),
    heartbeatMs: ms("BERTH_HEARTBEAT_MS", 5000),
    shutdownGraceMs: ms("BERTH_SHUTDOWN_GRACE_MS", 3000),
  };
}

export function startDemoAgent(options: DemoAgentOptions): DemoAgent {
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (message: string) => log(`${new Date().toISOString()} [agent ${options.pod}] ${message}`);
  const retry = options.retry ?? { initialMs: 500, maxMs: 10_000 };
  const client = new AgentClient({
    apiUrl: options.apiUrl,
    token: options.token,
    reconnect: retry,
    onStreamError: (error) => say(`assignments stream dropped, reconnecting: ${describe(error)}`),
  });
  /** Aborted on stop: no new work, no heartbeats, no subscription. */
  const accepting = new AbortController();
  /** Aborted when the grace period is over: running work is abandoned. */
  const abandon = new AbortController();
  const tasks = new Map<string, TaskEntry>();

  function remember(taskId: string, entry: TaskEntry) {
    tasks.delete(taskId);
    tasks.set(taskId, entry);
    for (const [id, old] of tasks) {
      if (tasks.size <= REMEMBERED_TASKS) break;
      if (old.phase === "done") tasks.delete(id);
    }
  }

  /** Calls the API until it answers (network or server trouble is retried); Error members are logged. */
  async function attempt<T>(what: string, call: () => Promise<MutationResult<T>>, signal: AbortSignal): Promise<MutationResult<T> | undefined> {
    const backoff = createBackoff(retry);
    while (!signal.aborted) {
      try {
        const result = await call();
        if (!result.ok) say(`${what}: ${result.typename}: ${result.message}`);
        return result;
      } catch (error) {
        if (signal.aborted) return undefined;
        say(`${what} failed, retrying: ${describe(error)}`);
      }
      if (!(await sleep(backoff.take(), signal))) return undefined;
    }
    return undefined;
  }

  /** True when the API accepted the report; an Error member (already logged) ends the task here. */
  async function report(taskId: string, status: ReportedStatus, signal: AbortSignal, output?: unknown): Promise<boolean> {
    const result = await attempt(`report ${status} for task ${taskId}`, () => client.reportTask({ taskId, status, output }, signal), signal);
    return result?.ok === true;
  }

  async function work(assignment: AssignedTask, stage: "plan" | "apply", entry: TaskEntry): Promise<void> {
    const { task, slot } = assignment;
    const payload = (typeof task.payload === "object" && task.payload !== null ? task.payload : {}) as { durationMs?: unknown; fail?: unknown };
    const durationMs = typeof payload.durationMs === "number" && payload.durationMs >= 0 ? payload.durationMs : DEFAULT_DURATION_MS;
    const signal = AbortSignal.any([entry.cancel.signal, abandon.signal]);
    say(`${stage === "plan" ? "starting" : "applying"} task ${task.id} (${task.type}) on slot ${slot.index}`);
    if (stage === "plan" && !(await report(task.id, "running", signal))) return;
    if (!(await sleep(durationMs, signal))) {
      say(`task ${task.id} ${entry.cancel.signal.aborted ? "cancelled" : "abandoned"}`);
      return;
    }
    if (stage === "plan" && task.type === "plan_and_apply") {
      const plan = `demo plan for task ${task.id}: ${durationMs} ms of work on pod ${options.pod}, slot ${slot.index}`;
      if (await report(task.id, "apply_pending", signal, { plan })) {
        entry.phase = "awaiting_approval";
        say(`task ${task.id} planned, waiting for approval`);
      }
      return;
    }
    const failed = payload.fail === true;
    const output = failed ? { error: `task ${task.id} failed on purpose (payload.fail)` } : { result: `done in ${durationMs} ms` };
    if (await report(task.id, failed ? "failed" : "succeeded", signal, output)) say(`task ${task.id} ${failed ? "failed" : "succeeded"}`);
  }

  function start(assignment: AssignedTask, stage: "plan" | "apply") {
    const id = assignment.task.id;
    const entry: TaskEntry = { phase: stage === "plan" ? "planning" : "applying", cancel: new AbortController(), work: Promise.resolve() };
    remember(id, entry);
    entry.work = work(assignment, stage, entry)
      .catch((error: unknown) => say(`task ${id}: ${describe(error)}`))
      .finally(() => {
        if (entry.phase !== "awaiting_approval") entry.phase = "done";
      });
  }

  function dispatch(assignment: AssignedTask) {
    const { task } = assignment;
    const known = tasks.get(task.id);
    switch (task.status) {
      case "running":
        // Already planning, waiting or finished here: a re-sent assignment, not new work.
        if (!known) start(assignment, "plan");
        return;
      case "applying":
        // Approved. The plan's work may still be finishing its apply_pending report: it is done either way.
        if (!known || known.phase === "awaiting_approval" || known.phase === "planning") {
          known?.cancel.abort();
          start(assignment, "apply");
        }
        return;
      case "cancelled":
        if (known && known.phase !== "done") {
          known.cancel.abort();
          known.phase = "done";
        }
        return;
      default:
        return;
    }
  }

  async function heartbeats(signal: AbortSignal) {
    while (await sleep(options.heartbeatMs ?? 5000, signal)) {
      await client.heartbeat(options.pod, signal).then(
        (result) => !result.ok && say(`heartbeat: ${result.typename}: ${result.message}`),
        (error: unknown) => signal.aborted || say(`heartbeat failed: ${describe(error)}`),
      );
    }
  }

  async function run() {
    const signal = accepting.signal;
    let registered = false;
    const backoff = createBackoff(retry);
    while (!registered && !signal.aborted) {
      const result = await attempt("register", () => client.registerAgent(options.pod, signal), signal);
      registered = result?.ok === true;
      if (!registered && !(await sleep(backoff.take(), signal))) return;
    }
    if (!registered) return;
    say(`registered with ${options.apiUrl}`);
    // A first heartbeat at once, so the pod is known to be alive before any work arrives.
    await attempt("heartbeat", () => client.heartbeat(options.pod, signal), signal);
    const beating = heartbeats(signal);
    for await (const assignment of client.assignments(options.pod, signal)) {
      if (!signal.aborted) dispatch(assignment);
    }
    await beating;
  }

  const activeTasks = () => [...tasks].filter(([, t]) => t.phase === "planning" || t.phase === "applying").map(([id]) => id);
  const running = run().catch((error: unknown) => say(`stopped by an unexpected error: ${describe(error)}`));
  let stopping: Promise<void> | undefined;

  return {
    activeTasks,
    stop() {
      stopping ??= (async () => {
        accepting.abort();
        const inFlight = [...tasks.values()].map((t) => t.work);
        const grace = new AbortController();
        const finished = await Promise.race([Promise.all(inFlight).then(() => true), sleep(options.shutdownGraceMs ?? 3000, grace.signal).then(() => false)]);
        grace.abort();
        if (!finished) say(`abandoning task(s) ${activeTasks().join(", ")} still running at shutdown`);
        abandon.abort();
        await Promise.all([running, ...inFlight]);
        say("stopped");
      })();
      return stopping;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let agent: DemoAgent;
  try {
    agent = startDemoAgent(demoAgentOptionsFromEnv(process.env));
  } catch (error) {
    console.error(describe(error));
    process.exit(2);
  }
  const shutdown = () => void agent.stop().then(() => process.exit(0));
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
