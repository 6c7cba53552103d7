import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

const root = mkdtempSync(join(tmpdir(), "berth-local-runtime-"));
const runtimes: LocalRuntime[] = [];
/** Every pod pid any test saw, checked once more at the end: none may survive the suite. */
const seenPids = new Set<number>();
const api = new FakeGraphQLApi();
let counter = 0;

beforeAll(async () => {
  await api.start();
});
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});
afterAll(async () => {
  // Pods outlive their runtime by design: every test stops what it started (its runtime on
  // close, or a successor), and no pod any test saw may still run now.
  await until(() => [...seenPids].every((pid) => !running(pid)), "every pod stopped", 10_000).catch(() => {});
  const survivors = [...seenPids].filter(running);
  for (const pid of survivors) process.kill(pid, "SIGKILL");
  await api.stop();
  rmSync(root, { recursive: true, force: true });
  expect(survivors).toEqual([]);
});

/** Alive and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!);
  } catch {
    return false;
  }
}

function pool(): RuntimePoolSpec {
  return { name: `lp${++counter}`, namespace: "default", image: null, podTemplate: null, slotsPerPod: 2 };
}

const newDir = () => mkdtempSync(join(root, "pods-"));

function runtime(overrides: Partial<Parameters<typeof createLocalRuntime>[0]> = {}): LocalRuntime {
  const r = createLocalRuntime({
    apiUrl: "http://127.0.0.1:4999",
    agentToken: async (name) => `token-of-${name}`,
    agentScript: STUB,
    podDir: newDir(),
    heartbeatMs: 1234,
    stopTimeoutMs: 3000,
    stopPodsOnClose: true,
    watchPollMs: 100,
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
  return events.map((e) => (e.type === "resync" || e.type === "synced" ? e.type : `${e.type}:${e.pod.name}${e.pod.terminating ? ":terminating" : ""}`));
}

/** SIGKILLs exactly one pod process, and refuses anything that is not a plain positive pid. */
function crash(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1 || !seenPids.has(pid)) throw new Error(`refusing to kill pid ${pid}`);
  process.kill(pid, "SIGKILL");
}

function logOf(r: LocalRuntime, pod: string): string {
  try {
    return readFileSync(join(r.podDir, `${pod}.log`), "utf8");
  } catch {
    return "";
  }
}

describe("local runtime", () => {
  it("starts a pod as a process with the agent's env (and none of the API's), the token in a file only its user reads, its output in the pod's log", async () => {
    process.env.LEAKED_SECRET = "must-not-reach-pods";
    const p = pool();
    const r = runtime();
    const pod = await r.create(p, `${p.name}-a1`);
    delete process.env.LEAKED_SECRET;
    const [pid] = track(r);

    expect(pod).toMatchObject({ name: `${p.name}-a1`, pool: p.name, phase: "Running", labels: { "berth.dev/pool": p.name, "berth.dev/managed": "true" } });
    expect(alive(pid!)).toBe(true);
    expect((await r.list(p)).map((x) => x.name)).toEqual([`${p.name}-a1`]);
    await until(() => logOf(r, `${p.name}-a1`).includes("{"), "stub wrote its env");
    const printed = JSON.parse(logOf(r, `${p.name}-a1`).trim().split("\n")[0]!) as { pid: number; env: Record<string, string> };
    expect(printed.pid).toBe(pid);
    const tokenFile = join(r.podDir, "tokens", `${p.name}.token`);
    expect(printed.env).toEqual({
      BERTH_API_URL: "http://127.0.0.1:4999",
      BERTH_AGENT_TOKEN_FILE: tokenFile,
      BERTH_POD_NAME: `${p.name}-a1`,
      BERTH_POOL: p.name,
      BERTH_SLOTS: "2",
      BERTH_WORK_DIR: expect.stringMatching(new RegExp(`/berth-work-[0-9a-f]{12}/${p.name}-a1$`)),
      BERTH_HEARTBEAT_MS: "1234",
      BERTH_ORPHAN_EXIT_SECONDS: "600",
    });
    expect(readFileSync(tokenFile, "utf8")).toBe(`token-of-${p.name}`);
    expect(statSync(tokenFile).mode & 0o077).toBe(0);
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

  it("lists only the pool's pods; listAll lists every pool's", async () => {
    const p = pool();
    const other = pool();
    const r = runtime();
    await Promise.all([r.create(p, `${p.name}-1`), r.create(p, `${p.name}-2`), r.create(other, `${other.name}-1`)]);
    track(r);
    expect((await r.list(p)).map((x) => x.name).sort()).toEqual([`${p.name}-1`, `${p.name}-2`]);
    expect((await r.list(other)).map((x) => x.name)).toEqual([`${other.name}-1`]);
    expect((await r.listAll()).map((x) => x.name).sort()).toEqual([`${p.name}-1`, `${p.name}-2`, `${other.name}-1`].sort());
  });

  it("deletes gracefully, like Kubernetes: the pod stays listed as terminating until its process has ended, then leaves the list", async () => {
    const p = pool();
    const r = runtime({ agentScript: fixture("slow-stop-agent.ts") });
    await r.create(p, `${p.name}-del`);
    const [pid] = track(r);
    await until(() => logOf(r, `${p.name}-del`).includes("ready"), "SIGTERM handler installed");
    await r.delete(p, `${p.name}-del`);
    // The delete returned at once; the process is still stopping (it takes 400 ms).
    expect(await r.list(p)).toEqual([expect.objectContaining({ name: `${p.name}-del`, terminating: true })]);
    await until(() => !alive(pid!), "process ended");
    await until(() => logOf(r, `${p.name}-del`).includes("stopped"), "stopped cleanly");
    expect(await r.list(p)).toEqual([]);
    await expect(r.delete(p, `${p.name}-del`)).resolves.toBeUndefined();
    await expect(r.delete(p, `${p.name}-never`)).resolves.toBeUndefined();
  });

  it("escalates to SIGKILL when a pod ignores SIGTERM past the stop timeout", async () => {
    const p = pool();
    const r = runtime({ agentScript: fixture("stubborn-agent.ts"), stopTimeoutMs: 300 });
    await r.create(p, `${p.name}-stubborn`);
    const [pid] = track(r);
    await until(() => logOf(r, `${p.name}-stubborn`).includes("ready"), "SIGTERM handler installed");
    await r.delete(p, `${p.name}-stubborn`);
    await until(() => !alive(pid!), "killed", 5000);
    expect(logOf(r, `${p.name}-stubborn`)).toContain("ignoring SIGTERM");
    expect(await r.list(p)).toEqual([]);
  });

  it("a pod whose process ended by itself is listed as Failed until it is deleted", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-crash`);
    const [pid] = track(r);
    crash(pid);
    await until(() => !alive(pid!), "gone");
    expect(await r.list(p)).toEqual([expect.objectContaining({ name: `${p.name}-crash`, phase: "Failed", terminating: false })]);
    await r.delete(p, `${p.name}-crash`);
    expect(await r.list(p)).toEqual([]);
  });

  it("does not take a recycled pid for its pod: a record whose process start time differs is an ended pod", async () => {
    const p = pool();
    const r = runtime();
    // A record naming a live process that is not the pod (this test's own), started at another time.
    writeFileSync(
      join(r.podDir, `${p.name}-ghost.pod.json`),
      JSON.stringify({ name: `${p.name}-ghost`, pool: p.name, pid: process.pid, procStart: "1", createdAt: new Date().toISOString(), labels: {} }),
    );
    expect(await r.list(p)).toEqual([expect.objectContaining({ name: `${p.name}-ghost`, phase: "Failed" })]);
    await r.delete(p, `${p.name}-ghost`);
    expect(await r.list(p)).toEqual([]);
  });

  it("watch: a resync with the current pods, then added, modified (terminating) and deleted as processes start and end, in order", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-old`);
    await until(() => logOf(r, `${p.name}-old`).includes("{"), "old pod running");
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await until(() => watch.seen.length >= 2, "initial events");

    // Each step waits for processes to start or end (SIGKILL after stopTimeoutMs); a loaded machine
    // gets room, and a step that still fails says what the watch had seen.
    const step = (event: string, what: string) =>
      until(() => names(watch.seen).includes(event), what, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; seen: ${names(watch.seen).join(", ")}`);
      });
    await r.create(p, `${p.name}-new`);
    await step(`added:${p.name}-new`, "added seen");
    await r.create(pool(), "elsewhere-1");
    track(r);
    await r.delete(p, `${p.name}-old`);
    await step(`deleted:${p.name}-old:terminating`, "old pod gone");
    // A pod whose process ends by itself is reported as ended (Failed) too.
    crash(r.pidOf(`${p.name}-new`));
    await step(`modified:${p.name}-new`, "all events");
    controller.abort();
    await watch.finished;

    // A process that ends between two polls of the watch skips its Terminating state, as a
    // Kubernetes watch may coalesce changes: the deletion still says it was terminating.
    const seen = names(watch.seen);
    const expected = [`resync`, `added:${p.name}-old`, `added:${p.name}-new`, `modified:${p.name}-old:terminating`, `deleted:${p.name}-old:terminating`, `modified:${p.name}-new`];
    expect(seen).toEqual(seen.includes(`modified:${p.name}-old:terminating`) ? expected : expected.filter((e) => e !== `modified:${p.name}-old:terminating`));
    expect((watch.seen.at(-1) as { pod: { phase: string } }).pod.phase).toBe("Failed");
  }, 120_000);

  it("two runtimes on one pod directory (replicas on one machine) share their pods and their scope; another directory shares nothing", async () => {
    const dir = newDir();
    const p = pool();
    const a = runtime({ podDir: dir });
    const b = runtime({ podDir: dir });
    const elsewhere = runtime();
    await a.create(p, `${p.name}-from-a`);
    track(a);
    expect(a.scope).toBe(b.scope);
    expect(elsewhere.scope).not.toBe(a.scope);
    expect((await b.list(p)).map((x) => x.name)).toEqual([`${p.name}-from-a`]);
    expect(await elsewhere.list(p)).toEqual([]);
    // B may delete A's pod: what one replica started another can stop.
    await b.delete(p, `${p.name}-from-a`);
    await until(() => a.pids().length === 0, "stopped by the other runtime", 5000);
  });

  it("close stops the pods it started only when asked to; by default they run on, and a new runtime on the directory finds and stops them", async () => {
    const dir = newDir();
    const p = pool();
    const keeper = createLocalRuntime({ apiUrl: "http://127.0.0.1:4999", agentToken: async () => "t", agentScript: STUB, podDir: dir });
    await keeper.create(p, `${p.name}-lives`);
    const [pid] = track(keeper);
    await keeper.close();
    expect(alive(pid!)).toBe(true);
    await expect(keeper.create(p, `${p.name}-late`)).rejects.toBeInstanceOf(RuntimeClosedError);

    const successor = runtime({ podDir: dir });
    expect((await successor.list(p)).map((x) => [x.name, x.phase])).toEqual([[`${p.name}-lives`, "Running"]]);
    await successor.delete(p, `${p.name}-lives`);
    await until(() => !running(pid!), "stopped by the successor", 5000);
  });

  it.each([
    ["exits", "exit"],
    ["is killed with SIGKILL", "wait"],
  ])("its pods outlive the process that started them when it %s", async (_how, mode) => {
    const dir = newDir();
    const host = spawn(process.execPath, ["--import", "tsx", fixture("local-runtime-host.ts"), mode, dir], { cwd: CORE_DIR, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    host.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes("\n"), "host started its pod", 20_000);
      const { pids } = JSON.parse(out.trim()) as { pids: number[] };
      expect(pids).toHaveLength(1);
      for (const pid of pids) seenPids.add(pid);
      if (mode === "wait") host.kill("SIGKILL");
      await new Promise((resolve) => (host.exitCode !== null || host.signalCode !== null ? resolve(null) : host.once("exit", resolve)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(alive(pids[0]!)).toBe(true);
      const successor = runtime({ podDir: dir });
      expect((await successor.listAll()).map((x) => x.name)).toEqual(["host-pod"]);
      await successor.delete({ name: "host", namespace: "default", image: null, podTemplate: null, slotsPerPod: 1 }, "host-pod");
      await until(() => !running(pids[0]!), "stopped by the successor", 5000);
    } finally {
      if (host.exitCode === null && host.signalCode === null) host.kill("SIGKILL");
    }
  });

  it("runs the real agent (@berth/agent): it registers as the pod with the pool's token from its file, takes a task, and exits cleanly on delete", async () => {
    const p = pool();
    const r = runtime({ apiUrl: api.url, agentToken: async () => api.token, agentScript: undefined, heartbeatMs: 100, stopTimeoutMs: 5000 });
    const name = `${p.name}-demo`;
    await r.create(p, name);
    const [pid] = track(r);
    await until(() => api.openStreams(name) > 0, "agent subscribed", 20_000);
    const register = api.named("RegisterAgent").find((o) => o.variables.pod === name)!;
    expect(register.authorization).toBe(`Bearer ${api.token}`);

    api.assign(name, { task: { id: `${name}-t`, type: "plan", status: "running", payload: { durationMs: 10 } }, slot: { index: 1 } });
    await until(() => api.reports(`${name}-t`).includes(`${name}-t:succeeded`), "task done");

    await r.delete(p, name);
    await until(() => !alive(pid!), "agent exited", 10_000);
    expect(await r.list(p)).toEqual([]);
    expect(logOf(r, name)).toContain("registered with");
    expect(logOf(r, name)).toContain("stopped");
  });
});
