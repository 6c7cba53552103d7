// The agent against a fake of the agent-facing GraphQL API (pools without task types: the
// built-in `{ durationMs, fail }` behaviour): the operations it sends, converging from its sync,
// never running an attempt twice, stopping and confirming, exiting when its pod is gone, its
// environment, and the process on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REGISTER_AGENT, REPORT_TASK } from "@berth/core/runtime/agent-client";
import { AGENT_ASSIGNMENTS, AGENT_SYNC, startAgent as startBerthAgent, type Agent } from "../src/agent.js";
import { AgentConfigError, agentOptionsFromEnv } from "../src/config.js";
import { FakeGraphQLApi, type FakeAssignment } from "../../core/test/runtime/fake-graphql-api.js";
import { alive, until } from "../../core/test/runtime/wait.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const AGENT_DIR = fileURLToPath(new URL("..", import.meta.url));

const api = new FakeGraphQLApi();
const agents: Agent[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];
let podCounter = 0;

beforeAll(async () => {
  await api.start();
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await api.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-agent-protocol-"));
  dirs.push(dir);
  return dir;
}

function startAgent(overrides: { pod?: string; shutdownGraceMs?: number; subscribe?: boolean; orphanExitMs?: number; apiUrl?: string } = {}) {
  const pod = overrides.pod ?? `agent-${++podCounter}`;
  const lines: string[] = [];
  const agent = startBerthAgent({
    apiUrl: overrides.apiUrl ?? api.url,
    token: api.token,
    pod,
    slots: 3,
    workDir: workDir(),
    heartbeatMs: 40,
    shutdownGraceMs: overrides.shutdownGraceMs ?? 1000,
    subscribe: overrides.subscribe,
    orphanExitMs: overrides.orphanExitMs,
    retry: { initialMs: 20, maxMs: 100 },
    log: (line) => lines.push(line),
  });
  agents.push(agent);
  return { agent, pod, lines };
}

function task(id: string, type: string, status: string, payload: unknown = { durationMs: 20 }, slot = 0): FakeAssignment {
  return { task: { id, type, status, payload }, slot: { index: slot } };
}

describe("the agent against the API's agent operations", () => {
  it("registers, syncs at every heartbeat, subscribes, then reports running → succeeded for an assigned task, with its bearer token", async () => {
    const { pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    api.assign(pod, task(`${pod}-t1`, "plan", "running", { durationMs: 30 }));
    await until(() => api.reports(`${pod}-t1`).includes(`${pod}-t1:succeeded`), "succeeded reported");

    const mine = api.operations.filter((o) => o.variables.pod === pod || (o.variables.input as { pod?: string } | undefined)?.pod === pod || (o.variables.input as { taskId?: string } | undefined)?.taskId?.startsWith(pod));
    const order = mine.map((o) => (o.operationName === "ReportTask" ? `ReportTask:${(o.variables.input as { status: string }).status}` : o.operationName));
    const first = (name: string) => order.indexOf(name);
    expect(first("RegisterAgent")).toBe(0);
    expect(first("SyncAgent")).toBeGreaterThan(0);
    expect(first("Assignments")).toBeGreaterThan(0);
    expect(first("ReportTask:succeeded")).toBeGreaterThan(first("ReportTask:running"));
    expect(api.reports(`${pod}-t1`)).toEqual([`${pod}-t1:running`, `${pod}-t1:succeeded`]);
    expect(mine.every((o) => o.authorization === `Bearer ${api.token}`)).toBe(true);
    expect(api.named("Assignments").find((o) => o.variables.pod === pod)!.accept).toContain("text/event-stream");
    await until(() => api.syncs(pod).length >= 3, "periodic syncs");
  });

  it("sends its operation documents", async () => {
    const { pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    api.assign(pod, task(`${pod}-t`, "plan", "running", { durationMs: 1 }));
    await until(() => api.reports(`${pod}-t`).length === 2, "reports");
    const queries = new Map(api.operations.map((o) => [o.operationName, o.query]));
    expect(queries.get("RegisterAgent")).toBe(REGISTER_AGENT);
    // The sync and the subscription ask for each assignment's task type as well.
    expect(queries.get("SyncAgent")).toBe(AGENT_SYNC);
    expect(queries.get("Assignments")).toBe(AGENT_ASSIGNMENTS);
    expect(new Set(api.named("ReportTask").map((o) => o.query))).toEqual(new Set([REPORT_TASK]));
    // The outcome names the reporting pod.
    const outcome = api.named("ReportTask").find((o) => (o.variables.input as { taskId: string; status: string }).status === "succeeded" && (o.variables.input as { taskId: string }).taskId === `${pod}-t`);
    expect((outcome!.variables.input as { pod?: string }).pod).toBe(pod);
  });

  it("converges from its sync when the assignment event was lost: the task starts within a heartbeat", async () => {
    const { pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    const id = `${pod}-lost-event`;
    const placedAt = Date.now();
    api.assign(pod, task(id, "plan", "running", { durationMs: 5 }), { silent: true });
    await until(() => api.reports(id).includes(`${id}:succeeded`), "ran from its sync");
    // One heartbeat is 40 ms here; allow a loaded machine its slack, but far below any timeout.
    expect(Date.now() - placedAt).toBeLessThan(2000);
  });

  it("with no subscription at all, syncs alone carry the work: start, approve, apply", async () => {
    const { pod } = startAgent({ subscribe: false });
    const id = `${pod}-sync-only`;
    api.assign(pod, task(id, "plan_and_apply", "running", { durationMs: 5 }), { silent: true });
    await until(() => api.reports(id).includes(`${id}:apply_pending`), "planned");
    api.assign(pod, task(id, "plan_and_apply", "applying", { durationMs: 5 }), { silent: true });
    await until(() => api.reports(id).includes(`${id}:succeeded`), "applied");
    expect(api.openStreams(pod)).toBe(0);
  });

  it("tells the API what it runs, and stops what the sync says to stop, confirming with `stopped`", async () => {
    const { agent, pod, lines } = startAgent({ subscribe: false });
    const id = `${pod}-stop-me`;
    api.assign(pod, task(id, "plan", "running", { durationMs: 60_000 }), { silent: true });
    await until(() => agent.activeTasks().includes(id), "running");
    await until(() => api.syncs(pod).some((active) => active.includes(id)), "reported as active");
    // The server forgets it (it was cancelled, or requeued elsewhere): the next sync lists it in `stop`.
    api.assign(pod, task(id, "plan", "cancelled"), { silent: true });
    await until(() => agent.activeTasks().length === 0, "stopped");
    await until(() => api.reports(id).includes(`${id}:stopped`), "stop confirmed");
    expect(lines.some((l) => l.includes(`task ${id} stopped`))).toBe(true);
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:stopped`]);
  });

  it("plans a plan_and_apply task, reports apply_pending with a plan, waits, and applies after approval", async () => {
    const { agent, pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    const id = `${pod}-paa`;
    api.assign(pod, task(id, "plan_and_apply", "running", { durationMs: 20 }, 2));
    await until(() => api.reports(id).includes(`${id}:apply_pending`), "apply_pending reported");
    const pending = api.reportInput(id, "apply_pending")!;
    expect((pending.output as { plan: string }).plan).toMatch(/plan/);
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:apply_pending`]);
    await until(() => agent.activeTasks().length === 0, "no work while waiting for approval");

    api.assign(pod, task(id, "plan_and_apply", "applying", { durationMs: 20 }, 2));
    await until(() => api.reports(id).includes(`${id}:succeeded`), "succeeded after approval");
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:apply_pending`, `${id}:running`, `${id}:succeeded`]);
  });

  it("reports failed with an error output when the payload says fail, in either phase", async () => {
    const { pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    api.assign(pod, task(`${pod}-f`, "plan", "running", { durationMs: 5, fail: true }));
    api.assign(pod, task(`${pod}-pf`, "plan_and_apply", "running", { durationMs: 5, fail: true }, 1));
    await until(() => api.reports(`${pod}-f`).includes(`${pod}-f:failed`), "failed reported");
    expect(api.reports(`${pod}-f`)).toEqual([`${pod}-f:running`, `${pod}-f:failed`]);
    expect((api.reportInput(`${pod}-f`, "failed")!.output as { error: string }).error).toMatch(/fail/);

    await until(() => api.reports(`${pod}-pf`).includes(`${pod}-pf:apply_pending`), "plan reported");
    api.assign(pod, task(`${pod}-pf`, "plan_and_apply", "applying", { durationMs: 5, fail: true }, 1));
    await until(() => api.reports(`${pod}-pf`).includes(`${pod}-pf:failed`), "apply failed reported");
    expect(api.reports(`${pod}-pf`)).toEqual([`${pod}-pf:running`, `${pod}-pf:apply_pending`, `${pod}-pf:running`, `${pod}-pf:failed`]);
  });

  it("never runs the same attempt twice, even when it is sent again, the stream reconnects, or syncs repeat it", async () => {
    const { agent, pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    const id = `${pod}-once`;
    api.assign(pod, task(id, "plan", "running", { durationMs: 400 }));
    api.assign(pod, task(id, "plan", "running", { durationMs: 400 }));
    await until(() => api.reports(id).length === 1, "running reported");
    const subscriptions = api.named("Assignments").filter((o) => o.variables.pod === pod).length;
    api.endStreams(pod);
    // The reconnect repeats the still-running assignment.
    await until(() => api.named("Assignments").filter((o) => o.variables.pod === pod).length > subscriptions, "resubscribed");
    await until(() => api.openStreams(pod) > 0, "stream open again");
    expect(agent.activeTasks()).toEqual([id]);
    await until(() => api.reports(id).includes(`${id}:succeeded`), "succeeded");
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:succeeded`]);
  });

  it("runs a task again when it comes back as a new attempt (requeued and placed here again)", async () => {
    const { pod } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    const id = `${pod}-again`;
    api.assign(pod, { task: { id, type: "plan", status: "running", payload: { durationMs: 60_000 }, attempts: 1 }, slot: { index: 0 } });
    await until(() => api.reports(id).length === 1, "first attempt running");
    api.assign(pod, { task: { id, type: "plan", status: "running", payload: { durationMs: 5 }, attempts: 2 }, slot: { index: 1 } });
    await until(() => api.reports(id).includes(`${id}:succeeded`), "second attempt done");
    // The first attempt was stopped, not left running beside the second.
    expect(api.reports(id)).toContain(`${id}:stopped`);
  });

  it("stops a task's work when it is cancelled, and confirms the stop", async () => {
    const { agent, pod, lines } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed");
    const id = `${pod}-long`;
    api.assign(pod, task(id, "plan", "running", { durationMs: 60_000 }));
    await until(() => api.reports(id).length === 1 && agent.activeTasks().includes(id), "running");
    api.assign(pod, task(id, "plan", "cancelled", { durationMs: 60_000 }));
    await until(() => agent.activeTasks().length === 0, "work stopped");
    expect(lines.some((l) => l.includes(`task ${id} stopped`))).toBe(true);
    await until(() => api.reports(id).length === 2, "stop confirmed");
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:stopped`]);
  });

  it("exits when the API says its pod is Lost", async () => {
    const { agent, pod, lines } = startAgent();
    await until(() => api.syncs(pod).length > 0, "syncing");
    api.lostPods.add(pod);
    await agent.ended;
    expect(lines.some((l) => l.includes("exiting"))).toBe(true);
  });

  it("exits once idle when its pod is being deleted, after finishing what it runs", async () => {
    const { agent, pod } = startAgent({ subscribe: false });
    const id = `${pod}-last`;
    api.assign(pod, task(id, "plan", "running", { durationMs: 300 }), { silent: true });
    await until(() => agent.activeTasks().includes(id), "running");
    api.terminatingPods.add(pod);
    await agent.ended;
    expect(api.reports(id)).toEqual([`${id}:running`, `${id}:succeeded`]);
  });

  it("exits when it has not reached the API for its orphan timeout and runs nothing", async () => {
    const { agent, lines } = startAgent({ apiUrl: "http://127.0.0.1:9", orphanExitMs: 300 });
    await agent.ended;
    expect(lines.some((l) => /exiting: the API has not answered/.test(l))).toBe(true);
  });

  it("logs Error members of results instead of throwing: retries registration, keeps working after a refused report", async () => {
    api.registerRefusals = 2;
    const { pod, lines } = startAgent();
    await until(() => api.openStreams(pod) > 0, "subscribed after refusals");
    expect(api.named("RegisterAgent").filter((o) => o.variables.pod === pod)).toHaveLength(3);
    expect(lines.filter((l) => l.includes("PodNotFoundError"))).toHaveLength(2);

    api.refuseReportsFor.add(`${pod}-refused`);
    // Long enough that the refusal of its `running` report arrives while it works.
    api.assign(pod, task(`${pod}-refused`, "plan", "running", { durationMs: 5000 }));
    await until(() => lines.some((l) => l.includes("InvalidTransitionError")), "refusal logged");
    api.assign(pod, task(`${pod}-next`, "plan", "running"));
    await until(() => api.reports(`${pod}-next`).includes(`${pod}-next:succeeded`), "next task done");
    expect(api.reports(`${pod}-refused`)).toEqual([`${pod}-refused:running`]);
  });

  it("reads its settings from the environment and names what is wrong", () => {
    const env = { BERTH_API_URL: "http://127.0.0.1:4000", BERTH_AGENT_TOKEN: "t", BERTH_POD_NAME: "p-1" };
    expect(agentOptionsFromEnv(env)).toMatchObject({ apiUrl: env.BERTH_API_URL, token: "t", pod: "p-1", slots: 3, heartbeatMs: 5000, shutdownGraceMs: 3000, killGraceMs: 10_000 });
    expect(agentOptionsFromEnv(env).workDir).toBe(join(tmpdir(), "berth-work", "p-1"));
    expect(agentOptionsFromEnv(env).orphanExitMs).toBeUndefined();
    expect(agentOptionsFromEnv({ ...env, BERTH_HEARTBEAT_MS: "250" }).heartbeatMs).toBe(250);
    expect(agentOptionsFromEnv({ ...env, BERTH_ORPHAN_EXIT_SECONDS: "60" }).orphanExitMs).toBe(60_000);
    expect(agentOptionsFromEnv({ ...env, BERTH_WORK_DIR: "/var/lib/berth/work", BERTH_SLOTS: "5" })).toMatchObject({ workDir: "/var/lib/berth/work", slots: 5 });
    expect(() => agentOptionsFromEnv({ ...env, BERTH_POD_NAME: undefined })).toThrow(AgentConfigError);
    expect(() => agentOptionsFromEnv({ ...env, BERTH_HEARTBEAT_MS: "soon" })).toThrow(expect.objectContaining({ variable: "BERTH_HEARTBEAT_MS" }));
    expect(() => agentOptionsFromEnv({ ...env, BERTH_SLOTS: "65" })).toThrow(expect.objectContaining({ variable: "BERTH_SLOTS" }));
    expect(() => agentOptionsFromEnv({ ...env, BERTH_API_URL: "not a url" })).toThrow(AgentConfigError);
    expect(() => agentOptionsFromEnv({ ...env, BERTH_AGENT_TOKEN: undefined, BERTH_AGENT_TOKEN_FILE: "/nonexistent/token" })).toThrow(
      expect.objectContaining({ variable: "BERTH_AGENT_TOKEN_FILE" }),
    );
  });
});

describe("the agent as a program", () => {
  function run(pod: string, extraEnv: Record<string, string> = {}) {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
      cwd: AGENT_DIR,
      env: { PATH: process.env.PATH, BERTH_API_URL: api.url, BERTH_AGENT_TOKEN: api.token, BERTH_POD_NAME: pod, BERTH_HEARTBEAT_MS: "100", BERTH_WORK_DIR: workDir(), ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    return { child, exited, output: () => output };
  }

  it("on SIGTERM finishes the running task within its grace period and exits 0", async () => {
    const pod = `proc-${++podCounter}`;
    const agent = run(pod);
    await until(() => api.openStreams(pod) > 0, "subscribed", 20_000);
    api.assign(pod, task(`${pod}-t`, "plan", "running", { durationMs: 300 }));
    await until(() => api.reports(`${pod}-t`).length === 1, "running");
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(api.reports(`${pod}-t`)).toEqual([`${pod}-t:running`, `${pod}-t:succeeded`]);
    expect(api.openStreams(pod)).toBe(0);
    expect(alive(agent.child.pid!)).toBe(false);
  });

  it("on SIGTERM stops work that outlasts the grace period, reports it stopped, and still exits 0", async () => {
    const pod = `proc-${++podCounter}`;
    const agent = run(pod, { BERTH_SHUTDOWN_GRACE_MS: "100" });
    await until(() => api.openStreams(pod) > 0, "subscribed", 20_000);
    api.assign(pod, task(`${pod}-t`, "plan", "running", { durationMs: 60_000 }));
    await until(() => api.reports(`${pod}-t`).length === 1, "running");
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(api.reports(`${pod}-t`)).toEqual([`${pod}-t:running`, `${pod}-t:stopped`]);
    expect(agent.output()).toMatch(/still running at shutdown/);
  });

  it("exits 2 naming the variable when its configuration is missing", async () => {
    const agent = run("", {});
    expect(await agent.exited).toEqual({ code: 2, signal: null });
    expect(agent.output()).toContain("BERTH_POD_NAME");
  });
});
