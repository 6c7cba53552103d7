/**
 * Berth's demo agent: what runs inside each pod of the `local` runtime (and in the demo image).
 * It speaks to the API only through GraphQL operations, as any agent would: register, then at
 * every heartbeat a sync that says what runs here and answers with what should (it converges on
 * that answer, so a lost event only delays work); the `assignments` subscription for latency;
 * progress reports. Environment: BERTH_API_URL, BERTH_POD_NAME and BERTH_AGENT_TOKEN or
 * BERTH_AGENT_TOKEN_FILE (required), BERTH_POOL, BERTH_SLOTS, BERTH_HEARTBEAT_MS (default 5000),
 * BERTH_SHUTDOWN_GRACE_MS (default 3000), BERTH_ORPHAN_EXIT_SECONDS (default: never).
 *
 * Task payload: `{ durationMs = 2000, fail = false }`. A `plan_and_apply` task plans for
 * durationMs, reports `apply_pending` with a plan, waits for approval (`applying`), applies for
 * durationMs. On SIGTERM it takes no more work, lets running work finish within the grace
 * period, reports the rest `stopped`, and exits 0. It exits by itself when the API says its pod
 * is gone, Lost or being deleted (once idle), and when it has not reached the API for
 * BERTH_ORPHAN_EXIT_SECONDS while running nothing.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AgentClient, mustExit, type AgentSyncAnswer, type AssignedTask, type MutationResult, type ReportedStatus } from "./agent-client.js";
import { createBackoff, sleep, type Backoff } from "./backoff.js";

export interface DemoAgentOptions {
  apiUrl: string;
  token: string;
  pod: string;
  heartbeatMs?: number;
  shutdownGraceMs?: number;
  /** Exit after this long without reaching the API, once nothing runs. Default: never. */
  orphanExitMs?: number;
  /** Delays between retries (registration, reports) and subscription reconnects. */
  retry?: Backoff;
  /** Listen to the assignments subscription as well as syncing (default true). */
  subscribe?: boolean;
  log?: (line: string) => void;
}

export interface DemoAgent {
  /** Ids of the tasks this agent is working on right now. */
  activeTasks(): string[];
  /** Stops taking work, gives running work the grace period, then reports the rest stopped. */
  stop(): Promise<void>;
  /** Ends like a killed process: nothing more is sent, nothing is reported. */
  kill(): void;
  /** Resolves when the agent has ended (stopped, killed, or told to exit by the API). */
  readonly ended: Promise<void>;
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
/** Finished stages remembered so that a re-sent assignment (after a reconnect) is not run again. */
const REMEMBERED = 1000;

/** One stage (plan or apply) of one task on this agent. `working`: the work itself is in progress. */
type StageState = "working" | "reporting" | "awaiting_approval" | "done";
type Stage = "plan" | "apply";
interface Entry {
  state: StageState;
  cancel: AbortController;
  work: Promise<void>;
}

export function demoAgentOptionsFromEnv(env: Record<string, string | undefined>): DemoAgentOptions {
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new AgentConfigError(name, value);
    return value;
  };
  const ms = (name: string, fallback: number | undefined, scale = 1) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new AgentConfigError(name, value);
    return n * scale;
  };
  const apiUrl = need("BERTH_API_URL");
  if (!URL.canParse(apiUrl)) throw new AgentConfigError("BERTH_API_URL", apiUrl);
  let token = env.BERTH_AGENT_TOKEN;
  if (!token && env.BERTH_AGENT_TOKEN_FILE) {
    try {
      token = readFileSync(env.BERTH_AGENT_TOKEN_FILE, "utf8").trim();
    } catch {
      throw new AgentConfigError("BERTH_AGENT_TOKEN_FILE", env.BERTH_AGENT_TOKEN_FILE);
    }
  }
  if (!token) throw new AgentConfigError("BERTH_AGENT_TOKEN", token);
  return {
    apiUrl,
    token,
    pod: need("BERTH_POD_NAME"),
    heartbeatMs: ms("BERTH_HEARTBEAT_MS", 5000),
    shutdownGraceMs: ms("BERTH_SHUTDOWN_GRACE_MS", 3000),
    orphanExitMs: ms("BERTH_ORPHAN_EXIT_SECONDS", undefined, 1000),
  };
}

export function startDemoAgent(options: DemoAgentOptions): DemoAgent {
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (message: string) => log(`${new Date().toISOString()} [agent ${options.pod}] ${message}`);
  const retry = options.retry ?? { initialMs: 500, maxMs: 10_000 };
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const client = new AgentClient({
    apiUrl: options.apiUrl,
    token: options.token,
    reconnect: retry,
    onStreamError: (error) => say(`assignments stream dropped, reconnecting: ${describe(error)}`),
  });
  /** Aborted on stop: no new work, no heartbeats, no subscription. */
  const accepting = new AbortController();
  /** Aborted when the grace period is over (or on kill): running work is abandoned. */
  const abandon = new AbortController();
  /** Aborted on kill: nothing more is sent. */
  const killed = new AbortController();
  const entries = new Map<string, Entry>();
  /** One attempt's stage: a requeued task placed here again is new work. */
  const key = (task: AssignedTask["task"], stage: Stage) => `${task.id}:${task.attempts ?? 0}:${stage}`;
  const taskOf = (k: string) => k.split(":")[0]!;
  let lastContact = Date.now();
  let exitWhenIdle = false;

  function remember(k: string, entry: Entry) {
    entries.delete(k);
    entries.set(k, entry);
    for (const [old, e] of entries) {
      if (entries.size <= REMEMBERED) break;
      if (e.state === "done") entries.delete(old);
    }
  }

  /** Calls the API until it answers (network or server trouble is retried); Error members are logged. */
  async function attempt<T>(what: string, call: () => Promise<MutationResult<T>>, signal: AbortSignal): Promise<MutationResult<T> | undefined> {
    const backoff = createBackoff(retry);
    while (!signal.aborted && !killed.signal.aborted) {
      try {
        const result = await call();
        lastContact = Date.now();
        if (!result.ok) say(`${what}: ${result.typename}: ${result.message}`);
        return result;
      } catch (error) {
        if (signal.aborted || killed.signal.aborted) return undefined;
        say(`${what} failed, retrying: ${describe(error)}`);
      }
      if (!(await sleep(backoff.take(), AbortSignal.any([signal, killed.signal])))) return undefined;
    }
    return undefined;
  }

  /** True when the API accepted the report; an Error member (already logged) ends the task here. */
  async function report(taskId: string, status: ReportedStatus, signal: AbortSignal, output?: unknown): Promise<boolean> {
    const result = await attempt(`report ${status} for task ${taskId}`, () => client.reportTask({ taskId, status, output }, killed.signal), signal);
    return result?.ok === true;
  }

  async function work(assignment: AssignedTask, stage: Stage, entry: Entry): Promise<void> {
    const { task, slot } = assignment;
    const payload = (typeof task.payload === "object" && task.payload !== null ? task.payload : {}) as { durationMs?: unknown; fail?: unknown };
    const durationMs = typeof payload.durationMs === "number" && payload.durationMs >= 0 ? payload.durationMs : DEFAULT_DURATION_MS;
    const stopped = AbortSignal.any([entry.cancel.signal, abandon.signal]);
    say(`${stage === "plan" ? "starting" : "applying"} task ${task.id} (${task.type}) on slot ${slot.index}`);
    // Acknowledges the stage (from now on a cancel waits for this agent to stop it). Refused, it
    // means the task is not this agent's to run: the work stops without a report.
    let refused = false;
    void attempt(`report running for task ${task.id}`, () => client.reportTask({ taskId: task.id, status: "running" }, killed.signal), stopped).then((result) => {
      if (result && !result.ok) {
        refused = true;
        entry.cancel.abort();
      }
    });
    if (!(await sleep(durationMs, stopped))) {
      if (refused) {
        entry.state = "done";
        return;
      }
      entry.state = "done";
      say(`task ${task.id} ${entry.cancel.signal.aborted ? "stopped" : "abandoned"}`);
      // Confirms the stop at once (the next sync would confirm it too).
      if (!killed.signal.aborted) await client.reportTask({ taskId: task.id, status: "stopped" }, killed.signal).catch(() => undefined);
      return;
    }
    entry.state = "reporting";
    if (stage === "plan" && task.type === "plan_and_apply") {
      const plan = `demo plan for task ${task.id}: ${durationMs} ms of work on pod ${options.pod}, slot ${slot.index}`;
      if (await report(task.id, "apply_pending", stopped, { plan })) {
        entry.state = "awaiting_approval";
        say(`task ${task.id} planned, waiting for approval`);
      } else entry.state = "done";
      return;
    }
    const failed = payload.fail === true;
    const output = failed ? { error: `task ${task.id} failed on purpose (payload.fail)` } : { result: `done in ${durationMs} ms` };
    if (await report(task.id, failed ? "failed" : "succeeded", stopped, output)) say(`task ${task.id} ${failed ? "failed" : "succeeded"}`);
    entry.state = "done";
  }

  function start(assignment: AssignedTask, stage: Stage) {
    if (accepting.signal.aborted || exitWhenIdle) return;
    const id = assignment.task.id;
    const entry: Entry = { state: "working", cancel: new AbortController(), work: Promise.resolve() };
    remember(key(assignment.task, stage), entry);
    entry.work = work(assignment, stage, entry).catch((error: unknown) => {
      entry.state = "done";
      say(`task ${id}: ${describe(error)}`);
    });
  }

  /** Stops every stage of the task here, except `keep`. */
  function stopTask(taskId: string, keep?: string) {
    for (const [k, entry] of entries) {
      if (taskOf(k) !== taskId || k === keep || entry.state === "done") continue;
      entry.cancel.abort();
      if (entry.state !== "working") entry.state = "done";
    }
  }

  /** Starts an assignment unless this agent already has (or had) that stage of that attempt. */
  function take(assignment: AssignedTask, action: "run" | "apply") {
    const stage: Stage = action === "apply" ? "apply" : "plan";
    const k = key(assignment.task, stage);
    if (entries.has(k)) return;
    // Approved (the plan is over, whatever its report was doing), or placed here again after a
    // requeue: nothing else of this task may go on here.
    stopTask(assignment.task.id, k);
    start(assignment, stage);
  }

  /** Event from the subscription: dispatch on the task's status. */
  function dispatch(assignment: AssignedTask) {
    const { task } = assignment;
    if (task.status === "running") take(assignment, "run");
    else if (task.status === "applying") take(assignment, "apply");
    else if (["cancelled", "failed", "succeeded", "expired", "pending"].includes(task.status)) stopTask(task.id);
  }

  /** The sync's answer: the server's truth for this pod. */
  function converge(answer: AgentSyncAnswer) {
    for (const id of answer.stop) stopTask(id);
    for (const a of answer.assignments) take(a, a.action);
    if (answer.pod.phase === "Terminating" && !exitWhenIdle) {
      exitWhenIdle = true;
      say("the pod is being deleted: finishing, then exiting");
    }
  }

  const activeTasks = () => [...new Set([...entries].filter(([, e]) => e.state === "working").map(([k]) => taskOf(k)))];

  let stopping: Promise<void> | undefined;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));

  async function syncs(signal: AbortSignal) {
    for (;;) {
      const result = await client.syncAgent({ pod: options.pod, active: activeTasks() }, signal).then(
        (r) => r,
        (error: unknown) => {
          if (!signal.aborted) say(`sync failed: ${describe(error)}`);
          return undefined;
        },
      );
      if (signal.aborted) return;
      if (result) {
        lastContact = Date.now();
        if (result.ok) converge(result.data);
        else {
          say(`sync: ${result.typename}: ${result.message}`);
          if (mustExit(result)) return exit("the API says this pod is gone");
        }
      } else if (options.orphanExitMs !== undefined && Date.now() - lastContact > options.orphanExitMs && activeTasks().length === 0) {
        return exit(`the API has not answered for ${Math.round((Date.now() - lastContact) / 1000)} s`);
      }
      if (exitWhenIdle && activeTasks().length === 0) return exit("idle on a pod that is being deleted");
      if (!(await sleep(heartbeatMs, signal))) return;
    }
  }

  function exit(why: string) {
    say(`exiting: ${why}`);
    void agent.stop();
  }

  async function run() {
    const signal = accepting.signal;
    let registered = false;
    const backoff = createBackoff(retry);
    while (!registered && !signal.aborted) {
      // Bounded by the orphan timeout, so an agent whose API never answers does not wait forever.
      const bounded = options.orphanExitMs === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, lastContact + options.orphanExitMs - Date.now()))]);
      const result = await attempt("register", () => client.registerAgent(options.pod, bounded), bounded);
      if (result && mustExit(result)) return exit("the API refused this pod");
      registered = result?.ok === true;
      if (!registered && options.orphanExitMs !== undefined && Date.now() - lastContact > options.orphanExitMs) {
        return exit(`the API has not answered for ${Math.round((Date.now() - lastContact) / 1000)} s`);
      }
      if (!registered && !(await sleep(backoff.take(), signal))) return;
    }
    if (!registered) return;
    say(`registered with ${options.apiUrl}`);
    const syncing = syncs(signal);
    if (options.subscribe !== false) {
      for await (const assignment of client.assignments(options.pod, signal)) {
        if (!signal.aborted) dispatch(assignment);
      }
    }
    await syncing;
  }

  const running = run().catch((error: unknown) => say(`stopped by an unexpected error: ${describe(error)}`));

  const agent: DemoAgent = {
    activeTasks,
    ended,
    stop() {
      stopping ??= (async () => {
        accepting.abort();
        const inFlight = [...entries.values()].map((e) => e.work);
        const grace = new AbortController();
        const finished = await Promise.race([Promise.all(inFlight).then(() => true), sleep(options.shutdownGraceMs ?? 3000, grace.signal).then(() => false)]);
        grace.abort();
        if (!finished) say(`stopping task(s) ${activeTasks().join(", ")} still running at shutdown`);
        abandon.abort();
        await Promise.all([running, ...inFlight]);
        say("stopped");
        end();
      })();
      return stopping;
    },
    kill() {
      killed.abort();
      accepting.abort();
      abandon.abort();
      end();
    },
  };
  return agent;
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
  const shutdown = () => void agent.stop();
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  void agent.ended.then(() => process.exit(0));
}
