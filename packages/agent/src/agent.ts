/**
 * Berth's agent: what runs inside each pod. It speaks to the API only through GraphQL, as any
 * agent would: register, then at every heartbeat a sync that says what runs here and answers with
 * what should (it converges on that answer, so a lost event only delays work); the `assignments`
 * subscription for latency; progress reports; the task's log, shipped in ordered chunks.
 *
 * A task whose pool declares its type runs that type's command in `<workDir>/<slot>/<taskId>`; a
 * plan-and-apply type keeps that directory while the plan waits for approval and runs its
 * applyCommand there. A pool without declared types gets the built-in behaviour: sleep
 * `durationMs` (2000), fail when `fail` is true.
 */
import { AgentClient, mustExit, REPORT_TASK, type AgentSyncAnswer, type AssignedTask, type MutationResult, type ReportedStatus, type TaskDefinition } from "@berth/core/runtime/agent-client";
import { createBackoff, deadlineSignal, sleep } from "@berth/core/runtime/backoff";
import { runCommand } from "./command.js";
import type { AgentOptions } from "./config.js";
import { LogShipper, type LogSink } from "./log-shipper.js";
import { graphqlLogSink } from "./sink.js";
import { readResult, WorkDirs } from "./workdir.js";

export interface Agent {
  /** Ids of the tasks this agent is working on right now. */
  activeTasks(): string[];
  /** Stops taking work, gives running work the grace period, then reports the rest stopped. */
  stop(): Promise<void>;
  /** Ends like a killed process: nothing more is sent, nothing is reported. */
  kill(): void;
  /** Resolves when the agent has ended (stopped, killed, or told to exit by the API). */
  readonly ended: Promise<void>;
}

const TASK_FIELDS = "id type status payload attempts deadlineAt";
const DEFINITION = "definition { stopGraceSeconds type { name command applyCommand shell env timeoutSeconds keep } }";

/** The sync and subscription of the core agent client, asking for each assignment's task type too. */
export const AGENT_SYNC = `mutation SyncAgent($input: SyncAgentInput!) {
  syncAgent(input: $input) {
    __typename
    ... on MutationSyncAgentSuccess {
      data {
        pod { name phase }
        draining
        stop
        assignments { action slot { index } task { ${TASK_FIELDS} } ${DEFINITION} }
        reserved { reservedUntil slot { index } task { id type status } }
      }
    }
    ... on ConflictError { message code }
    ... on Error { message }
  }
}`;
export const AGENT_ASSIGNMENTS = `subscription Assignments($pod: String!) {
  assignments(pod: $pod) { task { ${TASK_FIELDS} } slot { index } ${DEFINITION} }
}`;

const DEFAULT_DURATION_MS = 2000;
/** Finished stages remembered so that a re-sent assignment (after a reconnect) is not run again. */
const REMEMBERED = 1000;
/** The API keeps outputs of at most 64 KiB; a result file is read up to a little less. */
const RESULT_LIMIT = 60 * 1024;
export const WORKDIR_MISSING = "plan workdir missing on this pod";

type StageState = "working" | "reporting" | "awaiting_approval" | "done";
type Stage = "plan" | "apply";
interface Entry {
  state: StageState;
  cancel: AbortController;
  work: Promise<void>;
}

export function startAgent(options: AgentOptions & { logSink?: LogSink }): Agent {
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (message: string) => log(`${new Date().toISOString()} [agent ${options.pod}] ${message}`);
  const retry = options.retry ?? { initialMs: 500, maxMs: 10_000 };
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const client = new AgentClient({
    apiUrl: options.apiUrl,
    token: options.token,
    reconnect: retry,
    onStreamError: (error) => say(`assignments stream dropped, reconnecting: ${describe(error)}`),
    documents: { syncAgent: AGENT_SYNC, assignments: AGENT_ASSIGNMENTS },
  });
  const sink = options.logSink ?? graphqlLogSink(client, (message) => say(`the API keeps no task logs, output is not shipped: ${message}`));
  const workdirs = new WorkDirs(options.workDir);
  const accepting = new AbortController();
  const abandon = new AbortController();
  const killed = new AbortController();
  /** Aborted a while after the grace period: reports still not through are given up. */
  const giveUp = new AbortController();
  const reporting = AbortSignal.any([killed.signal, giveUp.signal]);
  const entries = new Map<string, Entry>();
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

  interface Report {
    status: ReportedStatus;
    output?: unknown;
    reason?: string;
  }

  /** True when the API accepted the report. Reports outlive a stop: they are retried a while past the grace period. */
  async function report(taskId: string, r: Report): Promise<boolean> {
    const input = { taskId, status: r.status, output: r.output, ...(r.reason ? { reason: r.reason } : {}), pod: options.pod };
    const result = await attempt(`report ${r.status} for task ${taskId}`, () => client.mutate<{ id: string }>("ReportTask", REPORT_TASK, { input }, "reportTask", reporting), reporting);
    return result?.ok === true;
  }

  /** Acknowledges the stage; a refusal means the task is not this agent's to run: the work stops unreported. */
  function acknowledge(taskId: string, entry: Entry, stopped: AbortSignal): { refused: () => boolean } {
    let refused = false;
    void attempt(`report running for task ${taskId}`, () => client.reportTask({ taskId, status: "running" }, killed.signal), stopped).then((result) => {
      if (result && !result.ok) {
        refused = true;
        entry.cancel.abort();
      }
    });
    return { refused: () => refused };
  }

  async function confirmStopped(taskId: string, entry: Entry) {
    say(`task ${taskId} ${entry.cancel.signal.aborted ? "stopped" : "abandoned"}`);
    if (!killed.signal.aborted) await client.reportTask({ taskId, status: "stopped" }, killed.signal).catch(() => undefined);
  }

  /** The built-in types: sleep durationMs, fail on `fail: true`. */
  async function builtin(assignment: AssignedTask, stage: Stage, entry: Entry): Promise<void> {
    const { task, slot } = assignment;
    const payload = (typeof task.payload === "object" && task.payload !== null ? task.payload : {}) as { durationMs?: unknown; fail?: unknown };
    const durationMs = typeof payload.durationMs === "number" && payload.durationMs >= 0 ? payload.durationMs : DEFAULT_DURATION_MS;
    const stopped = AbortSignal.any([entry.cancel.signal, abandon.signal]);
    say(`${stage === "plan" ? "starting" : "applying"} task ${task.id} (${task.type}, built-in) on slot ${slot.index}`);
    const ack = acknowledge(task.id, entry, stopped);
    if (!(await sleep(durationMs, stopped))) {
      entry.state = "done";
      if (!ack.refused()) await confirmStopped(task.id, entry);
      return;
    }
    entry.state = "reporting";
    if (stage === "plan" && task.type === "plan_and_apply") {
      const plan = `demo plan for task ${task.id}: ${durationMs} ms of work on pod ${options.pod}, slot ${slot.index}`;
      entry.state = (await report(task.id, { status: "apply_pending", output: { plan } })) ? "awaiting_approval" : "done";
      return;
    }
    const failed = payload.fail === true;
    const output = failed ? { error: `task ${task.id} failed on purpose (payload.fail)` } : { result: `done in ${durationMs} ms` };
    if (await report(task.id, { status: failed ? "failed" : "succeeded", output })) say(`task ${task.id} ${failed ? "failed" : "succeeded"}`);
    entry.state = "done";
  }

  function commandEnv(assignment: AssignedTask, def: TaskDefinition, stage: Stage, dir: string): Record<string, string> {
    const env: Record<string, string> = {};
    // The agent's own settings (its token above all) are not the command's.
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("BERTH_")) env[k] = v;
    Object.assign(env, def.type.env);
    const { task, slot } = assignment;
    return {
      ...env,
      BERTH_TASK_ID: task.id,
      BERTH_TASK_TYPE: task.type,
      BERTH_TASK_ATTEMPT: String(task.attempts ?? 1),
      BERTH_PHASE: stage,
      BERTH_POD_NAME: options.pod,
      BERTH_SLOT: String(slot.index),
      BERTH_WORKDIR: dir,
      BERTH_PAYLOAD: JSON.stringify(task.payload ?? {}),
      BERTH_PAYLOAD_FILE: `${dir}/payload.json`,
      BERTH_RESULT_FILE: workdirs.resultFile(dir),
    };
  }

  /** A declared type: its command (plan) or applyCommand (apply) in the task's working directory. */
  async function declared(assignment: AssignedTask, def: TaskDefinition, stage: Stage, entry: Entry): Promise<void> {
    const { task, slot } = assignment;
    const stopped = AbortSignal.any([entry.cancel.signal, abandon.signal]);
    const argv = stage === "plan" ? def.type.command : def.type.applyCommand;
    if (stage === "apply" && !workdirs.exists(slot.index, task.id)) {
      // The plan ran elsewhere (or this pod's disk was lost): applying without it would apply something else.
      say(`task ${task.id}: ${WORKDIR_MISSING}`);
      entry.state = "reporting";
      await shipLine(task.id, `[berth] ${WORKDIR_MISSING} (${options.pod}, slot ${slot.index}): the apply does not run\n`);
      await report(task.id, { status: "failed", reason: "plan_workdir_missing", output: { error: `${WORKDIR_MISSING} (${options.pod})` } });
      entry.state = "done";
      return;
    }
    if (!argv) {
      entry.state = "reporting";
      await report(task.id, { status: "failed", reason: "command_failed", output: { error: `task type ${def.type.name} has no applyCommand` } });
      entry.state = "done";
      return;
    }
    const keep = def.type.keep === "workdir";
    let dir: string;
    try {
      dir = stage === "plan" ? workdirs.prepare(slot.index, task.id, task.payload, keep) : workdirs.dirOf(slot.index, task.id);
    } catch (error) {
      // No room on the pod's disk, or no permission: the task fails here rather than hang until its deadline.
      entry.state = "reporting";
      await report(task.id, { status: "failed", reason: "command_failed", output: { error: `could not prepare the working directory: ${describe(error)}` } });
      entry.state = "done";
      return;
    }
    say(`${stage === "plan" ? "starting" : "applying"} task ${task.id} (${task.type}) on slot ${slot.index}: ${argv.join(" ")}`);
    const ack = acknowledge(task.id, entry, stopped);
    const shipper = new LogShipper({ sink, taskId: task.id, pod: options.pod, offset: workdirs.logOffset(dir), flushMs: options.logFlushMs, onProblem: (m) => say(`task ${task.id}: ${m}`) });
    const resultFile = workdirs.resultFile(dir);
    workdirs.clearResult(dir);
    const timeoutSeconds = def.type.timeoutSeconds;
    const killGraceMs = Math.min(options.killGraceMs ?? 10_000, Math.max(1000, def.stopGraceSeconds * 1000 - 2000));
    const outcome = await runCommand({
      argv,
      shell: def.type.shell,
      cwd: dir,
      env: commandEnv(assignment, def, stage, dir),
      timeoutMs: timeoutSeconds === null ? null : timeoutSeconds * 1000,
      stop: stopped,
      killGraceMs,
      onOutput: (chunk) => shipper.write(chunk),
    });
    if (outcome.timedOut) shipper.write(`\n[berth] killed: the ${stage} ran past its timeoutSeconds (${timeoutSeconds} s)\n`);
    else if (outcome.spawnError) shipper.write(`[berth] could not start ${argv[0]}: ${outcome.spawnError}\n`);
    else if (outcome.stopped) shipper.write(`\n[berth] stopped\n`);
    workdirs.saveLogOffset(dir, await shipper.close());

    if (outcome.stopped) {
      entry.state = "done";
      workdirs.remove(slot.index, task.id);
      if (!ack.refused()) await confirmStopped(task.id, entry);
      return;
    }
    entry.state = "reporting";
    const result = readResult(resultFile, RESULT_LIMIT);
    const ok = !outcome.timedOut && !outcome.spawnError && outcome.exitCode === 0;
    const ending = outcome.timedOut
      ? `deadline_exceeded: the ${stage} ran past its timeoutSeconds (${timeoutSeconds} s) and was killed`
      : outcome.spawnError
        ? `could not start ${argv[0]}: ${outcome.spawnError}`
        : outcome.exitCode !== 0
          ? `the ${stage} command exited with ${outcome.exitCode ?? `signal ${outcome.signal}`}`
          : null;
    if (result.problem) say(`task ${task.id}: ${result.problem}`);
    const base = result.value !== undefined ? result.value : { exitCode: outcome.exitCode };
    if (ok && stage === "plan" && def.type.applyCommand) {
      const accepted = await report(task.id, { status: "apply_pending", output: base });
      entry.state = accepted ? "awaiting_approval" : "done";
      if (accepted) say(`task ${task.id} planned, waiting for approval`);
      else workdirs.remove(slot.index, task.id);
      return;
    }
    const output = ok ? base : isObject(base) ? { ...base, error: typeof base.error === "string" ? base.error : ending } : { result: base, error: ending };
    const reason = ok ? undefined : outcome.timedOut ? "deadline_exceeded" : "command_failed";
    if (await report(task.id, { status: ok ? "succeeded" : "failed", output, reason })) say(`task ${task.id} ${ok ? "succeeded" : `failed: ${ending}`}`);
    entry.state = "done";
    workdirs.remove(slot.index, task.id);
  }

  /** One line of the agent's own at the end of the task's log (its size learnt with an empty chunk). */
  async function shipLine(taskId: string, line: string) {
    const size = await sink.append({ taskId, pod: options.pod, offset: 0, data: "" }).catch(() => ({ nextOffset: 0 }));
    const shipper = new LogShipper({ sink, taskId, pod: options.pod, offset: "nextOffset" in size ? size.nextOffset : 0 });
    shipper.write(line);
    await shipper.close(3000);
  }

  function start(assignment: AssignedTask, stage: Stage) {
    if (accepting.signal.aborted || exitWhenIdle) return;
    const id = assignment.task.id;
    const entry: Entry = { state: "working", cancel: new AbortController(), work: Promise.resolve() };
    remember(key(assignment.task, stage), entry);
    const def = assignment.definition;
    entry.work = (def ? declared(assignment, def, stage, entry) : builtin(assignment, stage, entry)).catch((error: unknown) => {
      entry.state = "done";
      say(`task ${id}: ${describe(error)}`);
    });
  }

  function stopTask(taskId: string, keep?: string) {
    for (const [k, entry] of entries) {
      if (taskOf(k) !== taskId || k === keep || entry.state === "done") continue;
      entry.cancel.abort();
      if (entry.state !== "working") entry.state = "done";
    }
  }

  function take(assignment: AssignedTask, action: "run" | "apply") {
    const stage: Stage = action === "apply" ? "apply" : "plan";
    const k = key(assignment.task, stage);
    if (entries.has(k)) return;
    stopTask(assignment.task.id, k);
    start(assignment, stage);
  }

  function dispatch(assignment: AssignedTask) {
    const { task } = assignment;
    if (task.status === "running") take(assignment, "run");
    else if (task.status === "applying") take(assignment, "apply");
    else if (["cancelled", "failed", "succeeded", "expired", "pending"].includes(task.status)) stopTask(task.id);
  }

  /**
   * Working directories of tasks that are neither this pod's work nor in progress here (ended,
   * rejected, expired, moved elsewhere) are removed: level-triggered, like everything else.
   */
  function collectWorkdirs(answer: AgentSyncAnswer) {
    const wanted = new Set([...answer.assignments.map((a) => a.task.id), ...answer.reserved.map((r) => r.task.id)]);
    for (const [k, e] of entries) if (e.state !== "done") wanted.add(taskOf(k));
    for (const { slot, taskId } of workdirs.list()) if (!wanted.has(taskId)) workdirs.remove(slot, taskId);
  }

  function converge(answer: AgentSyncAnswer) {
    for (const id of answer.stop) stopTask(id);
    for (const a of answer.assignments) take(a, a.action);
    collectWorkdirs(answer);
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
      const deadline = options.orphanExitMs === undefined ? undefined : deadlineSignal(lastContact + options.orphanExitMs - Date.now(), signal);
      const bounded = deadline?.signal ?? signal;
      const result = await attempt("register", () => client.registerAgent(options.pod, bounded), bounded).finally(() => deadline?.clear());
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

  const agent: Agent = {
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
        // Stopped commands get their kill grace; reports then a few seconds more.
        const giveUpTimer = setTimeout(() => giveUp.abort(), (options.killGraceMs ?? 10_000) + 5000);
        await Promise.all([running, ...inFlight]);
        clearTimeout(giveUpTimer);
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
