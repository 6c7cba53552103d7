import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { InvalidPodNameError, PodNameConflictError, RuntimeClosedError } from "../../src/runtime/errors.js";
import { createLocalRuntime, type LocalRuntime } from "../../src/runtime/local.js";
import type { RuntimeEvent, RuntimePoolSpec } from "../../src/runtime/types.js";
import { FakeGraphQLApi } from "./fake-graphql-api.js";
import { alive, collect, until } from "./wait.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const STUB = fixture("stub-agent.ts");
const CORE_DIR = fileURLToPath(new URL("../..", import.meta.url));

const logDir = mkdtempSync(join(tmpdir(), "berth-local-runtime-"));
const runtimes: LocalRuntime[] = [];
/** Every pod pid any test saw, checked once more at the end: none may survive. */
const seenPids = new Set<number>();
const api = new FakeGraphQLApi();
let poolCounter = 0;

beforeAll(async () => {
  await api.start();
});
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});
afterAll(async () => {
  // Every child was killed through its runtime (afterEach) or its host; none may have survived.
  const survivors = [...seenPids].filter(alive);
  await api.stop();
  rmSync(logDir, { recursive: true, force: true });
  expect(survivors).toEqual([]);
});

function pool(): RuntimePoolSpec {
  return { name: `lp${++poolCounter}`, namespace: "default", image: null, podTemplate: null, slotsPerPod: 2 };
}

function runtime(overrides: Partial<Parameters<typeof createLocalRuntime>[0]> = {}): LocalRuntime {
  const r = createLocalRuntime({
    apiUrl: "http://127.0.0.1:4999",
    agentToken: async (name) => `token-of-${name}`,
    agentScript: STUB,
    logDir,
    heartbeatMs: 1234,
    stopTimeoutMs: 3000,
    ...overrides,
  });
  runtimes.push(r);
  return r;
}

function track(r: LocalRuntime): number[] {
  const pids = r.pids();
  for (const pid of pids) seenPids.add(pid);
  return pids;
}

function names(events: RuntimeEvent[]): string[] {
  return events.map((e) => (e.type === "resync" ? "resync" : `${e.type}:${e.pod.name}${e.pod.terminating ? ":terminating" : ""}`));
}

/** SIGKILLs exactly one pod process, and refuses anything that is not a plain positive pid. */
function crash(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1 || !seenPids.has(pid)) throw new Error(`refusing to kill pid ${pid}`);
  process.kill(pid, "SIGKILL");
}

function logOf(pod: string): string {
  try {
    return readFileSync(join(logDir, `${pod}.log`), "utf8");
  } catch {
    return "";
  }
}

describe("local runtime", () => {
  it("starts a pod as a live child process with the agent's env (and none of the API's), its output in the pod's log", async () => {
    process.env.LEAKED_SECRET = "must-not-reach-pods";
    const p = pool();
    const r = runtime();
    const pod = await r.create(p, `${p.name}-a1`);
    delete process.env.LEAKED_SECRET;
    const [pid] = track(r);

    expect(pod).toMatchObject({ name: `${p.name}-a1`, pool: p.name, phase: "Running", labels: { "berth.dev/pool": p.name, "berth.dev/managed": "true" } });
    expect(alive(pid!)).toBe(true);
    expect((await r.list(p)).map((x) => x.name)).toEqual([`${p.name}-a1`]);
    await until(() => logOf(`${p.name}-a1`).includes("{"), "stub wrote its env");
    const printed = JSON.parse(logOf(`${p.name}-a1`).trim().split("\n")[0]!) as { pid: number; env: Record<string, string> };
    expect(printed.pid).toBe(pid);
    expect(printed.env).toEqual({
      BERTH_API_URL: "http://127.0.0.1:4999",
      BERTH_AGENT_TOKEN: `token-of-${p.name}`,
      BERTH_POD_NAME: `${p.name}-a1`,
      BERTH_POOL: p.name,
      BERTH_SLOTS: "2",
      BERTH_HEARTBEAT_MS: "1234",
    });
  });

  it("is idempotent on create, refuses a name held by another pool, and rejects an invalid name", async () => {
    const p = pool();
    const r = runtime();
    const first = await r.create(p, `${p.name}-same`);
    const [again] = await Promise.all([r.create(p, `${p.name}-same`), r.create(p, `${p.name}-same`)]);
    expect(again!.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(track(r)).toHaveLength(1);
    await expect(r.create(pool(), `${p.name}-same`)).rejects.toBeInstanceOf(PodNameConflictError);
    await expect(r.create(p, "Bad Name")).rejects.toBeInstanceOf(InvalidPodNameError);
    expect(r.pids()).toHaveLength(1);
  });

  it("lists only the pool's pods", async () => {
    const p = pool();
    const other = pool();
    const r = runtime();
    await Promise.all([r.create(p, `${p.name}-1`), r.create(p, `${p.name}-2`), r.create(other, `${other.name}-1`)]);
    track(r);
    expect((await r.list(p)).map((x) => x.name).sort()).toEqual([`${p.name}-1`, `${p.name}-2`]);
    expect((await r.list(other)).map((x) => x.name)).toEqual([`${other.name}-1`]);
  });

  it("deletes with SIGTERM: the process ends, the pod leaves the list, and deleting again succeeds", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-del`);
    const [pid] = track(r);
    await r.delete(p, `${p.name}-del`);
    expect(alive(pid!)).toBe(false);
    expect(await r.list(p)).toEqual([]);
    await expect(r.delete(p, `${p.name}-del`)).resolves.toBeUndefined();
    await expect(r.delete(p, `${p.name}-never`)).resolves.toBeUndefined();
  });

  it("escalates to SIGKILL when a pod ignores SIGTERM past the stop timeout", async () => {
    const p = pool();
    const r = runtime({ agentScript: fixture("stubborn-agent.ts"), stopTimeoutMs: 300 });
    await r.create(p, `${p.name}-stubborn`);
    const [pid] = track(r);
    await until(() => logOf(`${p.name}-stubborn`).includes("ready"), "SIGTERM handler installed");
    await r.delete(p, `${p.name}-stubborn`);
    expect(alive(pid!)).toBe(false);
    expect(logOf(`${p.name}-stubborn`)).toContain("ignoring SIGTERM");
  });

  it("watch: a resync with the current pods, then added, modified (terminating) and deleted as children start and exit", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-old`);
    await until(() => logOf(`${p.name}-old`).includes("{"), "old pod running");
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await until(() => watch.seen.length >= 2, "initial events");

    await r.create(p, `${p.name}-new`);
    await r.create(pool(), "elsewhere-1");
    track(r);
    await r.delete(p, `${p.name}-old`);
    // A pod whose process ends by itself is reported deleted as well.
    crash(r.pidOf(`${p.name}-new`));
    await until(() => watch.seen.length >= 6, "all events");
    controller.abort();
    await watch.finished;

    expect(names(watch.seen)).toEqual([
      "resync",
      `added:${p.name}-old`,
      `added:${p.name}-new`,
      `modified:${p.name}-old:terminating`,
      `deleted:${p.name}-old:terminating`,
      `deleted:${p.name}-new`,
    ]);
    const last = watch.seen.at(-1) as { pod: { phase: string } };
    expect(last.pod.phase).toBe("Failed");
    expect((watch.seen[4] as { pod: { phase: string } }).pod.phase).toBe("Succeeded");
  });

  it("close kills every child of every pool, ends watches, and refuses new pods", async () => {
    const a = pool();
    const b = pool();
    const r = runtime({ stopTimeoutMs: 500 });
    await Promise.all([r.create(a, `${a.name}-1`), r.create(a, `${a.name}-2`), r.create(b, `${b.name}-1`)]);
    const pids = track(r);
    expect(pids).toHaveLength(3);
    const watch = collect(r.watch(a, new AbortController().signal));
    await until(() => watch.seen.length >= 3, "watching");
    await r.close();
    await watch.finished;
    expect(pids.filter(alive)).toEqual([]);
    expect(r.pids()).toEqual([]);
    await expect(r.create(a, `${a.name}-3`)).rejects.toBeInstanceOf(RuntimeClosedError);
  });

  it.each([
    ["exits (the exit handler kills its pods)", "exit", false],
    ["is killed with SIGKILL while its pod still boots (the pod's tether finds no parent)", "wait", false],
    ["is killed with SIGKILL once its pod runs (the pod's tether sees the parent go)", "wait", true],
  ])("leaves no pod behind when the owning process %s", async (_how, mode, waitForPod) => {
    const hostLogs = mkdtempSync(join(logDir, "host-"));
    const host = spawn(process.execPath, ["--import", "tsx", fixture("local-runtime-host.ts"), mode, hostLogs], { cwd: CORE_DIR, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    host.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes("\n"), "host started its pod", 20_000);
      const { pids } = JSON.parse(out.trim()) as { pids: number[] };
      expect(pids).toHaveLength(1);
      for (const pid of pids) seenPids.add(pid);
      if (waitForPod) await until(() => existsSync(join(hostLogs, "host-pod.log")) && readFileSync(join(hostLogs, "host-pod.log"), "utf8").includes("{"), "pod running", 20_000);
      if (mode === "wait") {
        expect(alive(pids[0]!)).toBe(true);
        host.kill("SIGKILL");
      }
      await until(() => !alive(pids[0]!), "pod process gone", 10_000);
    } finally {
      if (host.exitCode === null && host.signalCode === null) host.kill("SIGKILL");
    }
  });

  it("runs the real demo agent: it registers as the pod with the pool's token, takes a task, and stops cleanly on delete", async () => {
    const p = pool();
    const r = createLocalRuntime({ apiUrl: api.url, agentToken: async () => api.token, logDir, heartbeatMs: 100, stopTimeoutMs: 5000 });
    runtimes.push(r);
    const name = `${p.name}-demo`;
    await r.create(p, name);
    track(r);
    await until(() => api.openStreams(name) > 0, "agent subscribed", 20_000);
    const register = api.named("RegisterAgent").find((o) => o.variables.pod === name)!;
    expect(register.authorization).toBe(`Bearer ${api.token}`);

    api.assign(name, { task: { id: `${name}-t`, type: "plan", status: "running", payload: { durationMs: 10 } }, slot: { index: 1 } });
    await until(() => api.reports(`${name}-t`).includes(`${name}-t:succeeded`), "task done");

    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await until(() => watch.seen.length >= 2, "watching");
    await r.delete(p, name);
    await until(() => watch.seen.length >= 4, "deleted seen");
    controller.abort();
    await watch.finished;
    const deleted = watch.seen.at(-1) as { type: string; pod: { phase: string } };
    expect(deleted).toMatchObject({ type: "deleted", pod: { phase: "Succeeded" } });
    expect(logOf(name)).toContain("registered with");
  });
});
