// The agent as a process against a real API (in-process yoga on a loopback port, PGlite): it runs
// the commands its pool declares in per-task working directories, plans and applies in the same
// directory, refuses to apply without the plan's directory, stops and times out process trees, and
// shuts down gracefully on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseTaskTypes } from "../../core/src/pools/task-types.js";
import { approveTask, cancelTask, getTask, submitTask } from "../../core/src/tasks/index.js";
import { detectLostPods } from "../../core/src/agents/lost.js";
import { seedPool } from "../../core/test/support/core.js";
import { alive, until } from "../../core/test/runtime/wait.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "../../../apps/api/test/support/api.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const AGENT_DIR = fileURLToPath(new URL("..", import.meta.url));
const DEMO = (file: string) => fileURLToPath(new URL(`../demo/${file}`, import.meta.url));

let api: TestApi;
let server: Server;
let url: string;
const children: ChildProcess[] = [];
const dirs: string[] = [];
let counter = 0;

beforeAll(async () => {
  api = await createTestApi({ backend: "pglite" });
  server = createServer(api.yoga);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, STARTUP_TIMEOUT_MS);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server?.closeAllConnections();
  await api?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const core = () => api.services.core;

/** A pool with one Ready pod per name given, declaring `types` (raw, as an admin would write them). */
async function pool(types: unknown[] | null, pods = 1, extra: Record<string, unknown> = {}) {
  const name = `agent${++counter}`;
  const taskTypes = types === null ? undefined : parseTaskTypes(types);
  const seeded = await seedPool(core(), name, pods, 2, { taskTypes, ...extra });
  const token = await api.tokenFor("agent", { name: `agents of ${name}`, pool: name });
  return { name, pods: seeded.pods, token };
}

function startAgent(pod: string, token: string, env: Record<string, string> = {}) {
  const workDir = mkdtempSync(join(tmpdir(), "berth-agent-test-"));
  dirs.push(workDir);
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: AGENT_DIR,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      BERTH_API_URL: url,
      BERTH_POD_NAME: pod,
      BERTH_AGENT_TOKEN: token,
      BERTH_SLOTS: "2",
      BERTH_WORK_DIR: workDir,
      BERTH_HEARTBEAT_MS: "200",
      BERTH_KILL_GRACE_MS: "1000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr!.on("data", (b: Buffer) => output.push(b.toString()));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, workDir, output, exited };
}

async function registered(agent: ReturnType<typeof startAgent>) {
  await until(() => agent.output.join("").includes("registered with"), "agent registered", 30_000);
}

async function waitStatus(id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await getTask(core(), id);
    if (statuses.includes(task.status) && task.stopRequestedAt === null) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} is ${task.status}, not ${statuses.join("/")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Gone, or a zombie nobody reaps (PID 1 of a container may not). */
function ended(pid: number): boolean {
  if (!alive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return ["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return true;
  }
}

async function logOf(taskId: string): Promise<string> {
  let text = "";
  for (let from = 0; ; ) {
    const page = await api.services.logs.read(taskId, from);
    text += page.data;
    if (page.nextOffset === from || page.data === "") return text;
    from = page.nextOffset;
  }
}

const slotOf = (taskId: string) => core().prisma.slot.findUnique({ where: { taskId } });

describe("the agent runs declared commands", () => {
  it("succeeds with the JSON its command wrote to BERTH_RESULT_FILE; gets the payload as env and file; fails on a non-zero exit", async () => {
    const p = await pool([
      {
        name: "echo",
        command: [
          "node",
          "-e",
          'const fs = require("fs"); const e = process.env; fs.writeFileSync(e.BERTH_RESULT_FILE, JSON.stringify({ env: JSON.parse(e.BERTH_PAYLOAD), file: JSON.parse(fs.readFileSync(e.BERTH_PAYLOAD_FILE, "utf8")), greeting: e.GREETING, token: e.BERTH_AGENT_TOKEN ?? null, cwd: process.cwd() === e.BERTH_WORKDIR }))',
        ],
        env: { GREETING: "hello" },
      },
      { name: "broken", command: ["sh", "-c", "echo about to fail; exit 3"] },
    ]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);

    const ok = await submitTask(core(), { pool: p.name, type: "echo", payload: { n: 1 } });
    const done = await waitStatus(ok.id, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    // The agent's token is not the command's.
    expect(done.output).toEqual({ env: { n: 1 }, file: { n: 1 }, greeting: "hello", token: null, cwd: true });
    // Its working directory is gone with it.
    await until(() => !existsSync(join(agent.workDir, String(done.slotIndex), ok.id)), "workdir removed", 3000);

    const bad = await submitTask(core(), { pool: p.name, type: "broken" });
    const failed = await waitStatus(bad.id, ["succeeded", "failed"]);
    expect(failed).toMatchObject({ status: "failed", failureReason: "command_failed", error: "the plan command exited with 3" });
    expect(await slotOf(bad.id)).toBeNull();
  });

  it("plan → approve → apply: the apply reads the plan's file in the same working directory on the same pod", async () => {
    const p = await pool([{ name: "plan_and_apply", command: ["node", DEMO("plan.mjs")], applyCommand: ["node", DEMO("apply.mjs")] }]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const task = await submitTask(core(), { pool: p.name, type: "plan_and_apply", payload: { durationMs: 300, steps: 3 } });
    const planned = await waitStatus(task.id, ["apply_pending", "failed"]);
    expect(planned.status).toBe("apply_pending");
    expect(planned.output).toEqual({ plan: "Plan: 3 to add, 0 to change, 0 to destroy.", changes: 3 });
    const dir = join(agent.workDir, String(planned.slotIndex), task.id);
    expect(JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")).changes).toEqual(["resource_1", "resource_2", "resource_3"]);
    // Kept across syncs while it waits.
    await new Promise((r) => setTimeout(r, 600));
    expect(existsSync(join(dir, "plan.json"))).toBe(true);

    await approveTask(core(), task.id);
    const applied = await waitStatus(task.id, ["succeeded", "failed"]);
    expect(applied.status).toBe("succeeded");
    expect(applied.output).toEqual({ plan: "Plan: 3 to add, 0 to change, 0 to destroy.", changes: 3, applied: 3, plannedOn: p.pods[0] });
    await until(() => !existsSync(dir), "workdir removed", 3000);
    // One log: the plan's output, then the apply's, in order.
    const log = await logOf(task.id);
    const order = ["planning task", "resource_3 will be created (3/3)", "Plan: 3 to add", "applying 3 change(s) from plan.json", "Apply complete!"].map((line) => log.indexOf(line));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("an apply whose plan directory is not on its pod fails with a clear reason instead of running", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "berth-apply-ran-")), "ran");
    const p = await pool([{ name: "tf", command: ["sh", "-c", "echo planned > plan.txt"], applyCommand: ["sh", "-c", `touch ${marker}`] }]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const task = await submitTask(core(), { pool: p.name, type: "tf" });
    const planned = await waitStatus(task.id, ["apply_pending", "failed"]);
    expect(planned.status).toBe("apply_pending");
    // The pod's disk is lost (a restarted pod, or the apply placed where the plan never ran).
    rmSync(join(agent.workDir, String(planned.slotIndex)), { recursive: true, force: true });
    await approveTask(core(), task.id);
    const failed = await waitStatus(task.id, ["succeeded", "failed"]);
    expect(failed).toMatchObject({ status: "failed", failureReason: "plan_workdir_missing" });
    expect(failed.error).toContain("plan workdir missing on this pod");
    expect(existsSync(marker)).toBe(false);
    const log = await logOf(task.id);
    expect(log).toMatch(/\[berth\] plan workdir missing on this pod .*: the apply does not run\n$/);
  });

  it("a cancelled command's whole process tree ends within the kill grace, and its slot is freed", async () => {
    // The tree ignores SIGTERM: only the SIGKILL after the grace period ends it.
    const p = await pool([{ name: "stubborn", command: ["sh", "-c", "trap '' TERM; sleep 60 & echo $! > child.pid; echo $$ > shell.pid; wait"] }]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const task = await submitTask(core(), { pool: p.name, type: "stubborn" });
    await waitStatus(task.id, ["running"]);
    const dir = join(agent.workDir, String((await getTask(core(), task.id)).slotIndex), task.id);
    await until(() => existsSync(join(dir, "child.pid")) && existsSync(join(dir, "shell.pid")) && readFileSync(join(dir, "shell.pid"), "utf8").trim() !== "", "command started", 10_000);
    const pids = ["child.pid", "shell.pid"].map((f) => Number(readFileSync(join(dir, f), "utf8").trim()));
    // Acknowledged (reported running): the cancel holds the slot until the agent confirms the stop.
    for (let i = 0; i < 100 && (await getTask(core(), task.id)).acknowledgedAt === null; i++) await new Promise((r) => setTimeout(r, 50));
    const cancelledAt = Date.now();
    await cancelTask(core(), task.id);
    const cancelled = await waitStatus(task.id, ["cancelled"], 10_000);
    expect(cancelled.status).toBe("cancelled");
    expect(await slotOf(task.id)).toBeNull();
    for (const pid of pids) expect(ended(pid)).toBe(true);
    // 1 s of kill grace, then the report: well within the pool's 30 s stopGraceSeconds.
    expect(Date.now() - cancelledAt).toBeLessThan(8000);
    expect(existsSync(dir)).toBe(false);
  });

  it("an agent killed mid-task: the pod's loss applies the pool's policy, and the log up to the kill is kept", async () => {
    const p = await pool([{ name: "chatty", command: ["sh", "-c", "echo $$ > shell.pid; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done"] }]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const task = await submitTask(core(), { pool: p.name, type: "chatty" });
    await waitStatus(task.id, ["running"]);
    // Some lines reach the API, then the agent dies as a killed container would (no report).
    for (let i = 0; i < 200 && !(await logOf(task.id)).includes("line 5\n"); i++) await new Promise((r) => setTimeout(r, 50));
    const dir = join(agent.workDir, String((await getTask(core(), task.id)).slotIndex), task.id);
    agent.child.kill("SIGKILL");
    await agent.exited;
    const shell = Number(readFileSync(join(dir, "shell.pid"), "utf8").trim());
    const before = await logOf(task.id);
    expect(before).toMatch(/^line 1\nline 2\nline 3\nline 4\nline 5\n/);

    // The runtime finds the pod gone: the pool's lost-pod policy (fail, the default) applies.
    const seeded = await core().prisma.pool.findUniqueOrThrow({ where: { name: p.name } });
    const lost = await detectLostPods(core(), { timeoutSeconds: 3600, startTimeoutSeconds: 3600, poolId: seeded.id, gone: [p.pods[0]!] });
    expect(lost.map((l) => l.failed)).toEqual([[task.id]]);
    const failed = await getTask(core(), task.id);
    expect(failed.status).toBe("failed");
    expect(await slotOf(task.id)).toBeNull();
    // Every byte shipped before the kill is still the task's log, in order.
    const after = await logOf(task.id);
    expect(after.startsWith(before)).toBe(true);
    expect(after).toMatch(/line 5\n/);
    // The command outlived its killed agent here (on a real pod it dies with the container).
    process.kill(-shell, "SIGKILL");
  });

  it("a command past its type's timeoutSeconds is killed and fails with deadline_exceeded", async () => {
    const p = await pool([{ name: "slow", command: ["sleep", "60"], timeoutSeconds: 1 }]);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const started = Date.now();
    const task = await submitTask(core(), { pool: p.name, type: "slow" });
    const failed = await waitStatus(task.id, ["failed", "succeeded"], 15_000);
    expect(failed).toMatchObject({ status: "failed", failureReason: "deadline_exceeded" });
    expect(failed.error).toMatch(/^deadline_exceeded: the plan ran past its timeoutSeconds \(1 s\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await slotOf(task.id)).toBeNull();
  });

  it("keeps the built-in behaviour for a pool without task types", async () => {
    const p = await pool(null);
    const agent = startAgent(p.pods[0]!, p.token);
    await registered(agent);
    const ok = await submitTask(core(), { pool: p.name, type: "plan", payload: { durationMs: 50 } });
    const bad = await submitTask(core(), { pool: p.name, type: "apply", payload: { durationMs: 50, fail: true } });
    expect((await waitStatus(ok.id, ["succeeded", "failed"])).output).toEqual({ result: "done in 50 ms" });
    expect((await waitStatus(bad.id, ["succeeded", "failed"])).status).toBe("failed");
  });
});

describe("the agent on SIGTERM", () => {
  it("takes no new work, lets a short task finish, stops a long one within the grace period and reports it, then exits 0", async () => {
    const p = await pool([
      { name: "short", command: ["sh", "-c", "sleep 0.5; echo '{\"short\":true}' > \"$BERTH_RESULT_FILE\""] },
      { name: "long", command: ["sh", "-c", "sleep 60 & echo $! > child.pid; wait"] },
    ]);
    const agent = startAgent(p.pods[0]!, p.token, { BERTH_SHUTDOWN_GRACE_MS: "1500" });
    await registered(agent);
    const long = await submitTask(core(), { pool: p.name, type: "long" });
    const short = await submitTask(core(), { pool: p.name, type: "short" });
    await waitStatus(long.id, ["running"]);
    const slot = (await getTask(core(), long.id)).slotIndex!;
    const pidFile = join(agent.workDir, String(slot), long.id, "child.pid");
    await until(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", "long task started", 10_000);
    const child = Number(readFileSync(pidFile, "utf8").trim());
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect((await getTask(core(), short.id)).status).toBe("succeeded");
    const stopped = await getTask(core(), long.id);
    expect(stopped).toMatchObject({ status: "failed", failureReason: "agent_stopped" });
    expect(ended(child)).toBe(true);
    // Nothing new was taken after SIGTERM.
    const late = await submitTask(core(), { pool: p.name, type: "short" });
    await new Promise((r) => setTimeout(r, 500));
    expect((await getTask(core(), late.id)).status).not.toBe("succeeded");
  });
});
