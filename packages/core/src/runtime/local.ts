import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { EventEmitter, on } from "node:events";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./backoff.js";
import { PodNameConflictError, PodStartError, RuntimeClosedError, assertPodName } from "./errors.js";
import { MANAGED_LABEL, POOL_LABEL, type PodRuntime, type RuntimeEvent, type RuntimePod, type RuntimePoolSpec } from "./types.js";

export interface LocalRuntimeOptions {
  /** `BERTH_API_URL` for the agents. */
  apiUrl: string;
  /** A pool's agent token; given to its pods in a file only this user can read. */
  agentToken: (pool: string) => Promise<string>;
  /** The program each pod runs (`.ts` runs through tsx). Default: `@berth/agent`. */
  agentScript?: string;
  /**
   * Where pods are recorded (`<name>.pod.json`), with their output (`<name>.log`) and the pools'
   * agent token files. Replicas sharing this directory on one machine see and manage each
   * other's pods; a restarted API finds its pods here again. Default: a directory of its own.
   */
  podDir?: string;
  /** `BERTH_HEARTBEAT_MS` for the agents (their default, 5000, when absent). */
  heartbeatMs?: number;
  /** How long a deleted pod gets between SIGTERM and SIGKILL. Default 5000 ms. */
  stopTimeoutMs?: number;
  /**
   * Pods outlive this process by default, as Kubernetes pods outlive the control plane: a
   * restart keeps their work. `true` stops them with the runtime (tests, throwaway runs).
   */
  stopPodsOnClose?: boolean;
  /** An agent that cannot reach the API this long (and runs nothing) exits: `BERTH_ORPHAN_EXIT_SECONDS`. Default 600. */
  orphanExitSeconds?: number;
  /** How often `watch` re-reads the pod directory for changes made by other processes. Default 1000 ms. */
  watchPollMs?: number;
}

/** The local runtime, which can also say which processes are its pods. */
export type LocalRuntime = PodRuntime & {
  /** Process ids of the live pods (of every pool) in its pod directory. */
  pids(): number[];
  pidOf(podName: string): number | undefined;
  /** The pod directory. */
  readonly podDir: string;
};

/** What `<name>.pod.json` holds. */
interface PodRecord {
  name: string;
  pool: string;
  /** Null while the process is being started. */
  pid: number | null;
  /** The process's start time (Linux `/proc/<pid>/stat`), so a recycled pid is not taken for the pod. */
  procStart: string | null;
  createdAt: string;
  labels: Record<string, string>;
  terminatingSince?: string;
}

/**
 * The agent each pod runs, `@berth/agent` (packages/agent): compiled JavaScript beside a compiled
 * server (`pnpm build:server`), else its TypeScript source (run through tsx).
 */
const BERTH_AGENT = ((js) => (import.meta.url.endsWith(".js") && existsSync(js) ? js : fileURLToPath(new URL("../../../agent/src/main.ts", import.meta.url))))(
  fileURLToPath(new URL("../../../agent/dist/main.js", import.meta.url)),
);
/** The core package: `--import tsx` resolves from here wherever the API was started. */
const CORE_DIR = fileURLToPath(new URL("../..", import.meta.url));
/** What a pod inherits from this process's environment: enough to run node, none of the API's secrets. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "TZ", "LANG", "SYSTEMROOT"];
/** A record without a process this long is a start that died half-way. */
const START_TIMEOUT_MS = 30_000;
/** Pod logs are kept this long after their pod is gone. */
const LOG_RETENTION_MS = 24 * 3600_000;

/** The process's start time and whether it has ended (zombie or gone); null when there is no such process. */
function processState(pid: number): { start: string | null; dead: boolean } | null {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return null;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { start: fields[19] ?? null, dead: fields[0] === "Z" || fields[0] === "X" };
  } catch {
    // No /proc (not Linux): the signal test above is all there is.
    return { start: null, dead: false };
  }
}

/**
 * Pods as processes on this machine, each running the agent program with the env a real pod's
 * agent gets (the token in a file, not in the environment). No shell is involved. Each pod is
 * detached (its own process group) and recorded in the pod directory, so that it outlives the
 * API like a Kubernetes pod outlives the control plane, and any runtime on the same directory
 * lists and deletes it. Deletion is graceful: SIGTERM to the pod's process group, the pod listed
 * as terminating until it exits, SIGKILL after the stop timeout.
 */
export function createLocalRuntime(options: LocalRuntimeOptions): LocalRuntime {
  const podDir = options.podDir ?? join(process.env.TMPDIR ?? "/tmp", `berth-pods-${process.pid}-${Date.now()}`);
  mkdirSync(join(podDir, "tokens"), { recursive: true, mode: 0o700 });
  const scope = `local:${hostname()}:${realpathSync(podDir)}`;
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const closed = new AbortController();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const script = options.agentScript ?? BERTH_AGENT;
  const started = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  pruneLogs(podDir);

  const recordPath = (name: string) => join(podDir, `${name}.pod.json`);
  /**
   * A pod's working directories (BERTH_WORK_DIR): its tasks' scratch files, gone with the pod. In
   * the temporary directory, one folder per pod directory, not in the data directory: they come and
   * go with every task, and a copy or removal of the data directory must not race them.
   */
  const workRoot = join(process.env.TMPDIR ?? "/tmp", `berth-work-${createHash("sha256").update(scope).digest("hex").slice(0, 12)}`);
  const workDirOf = (name: string) => join(workRoot, name);
  const forget = (name: string) => {
    rmSync(recordPath(name), { force: true });
    rmSync(workDirOf(name), { recursive: true, force: true });
  };
  const poke = () => changes.emit("poke");

  function readRecord(name: string): PodRecord | null {
    try {
      return JSON.parse(readFileSync(recordPath(name), "utf8")) as PodRecord;
    } catch {
      return null;
    }
  }

  function writeRecord(record: PodRecord, exclusive = false): boolean {
    const path = recordPath(record.name);
    if (exclusive) {
      try {
        writeFileSync(path, JSON.stringify(record), { flag: "wx", mode: 0o600 });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
    }
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(record), { mode: 0o600 });
    renameSync(temp, path);
    return true;
  }

  function alive(record: PodRecord): boolean {
    if (record.pid === null) return Date.now() - Date.parse(record.createdAt) < START_TIMEOUT_MS;
    const state = processState(record.pid);
    if (!state || state.dead) return false;
    return record.procStart === null || state.start === null || state.start === record.procStart;
  }

  function signal(record: PodRecord, sig: NodeJS.Signals): void {
    if (record.pid === null) return;
    for (const target of [-record.pid, record.pid]) {
      try {
        // The whole process group: the agent and whatever commands it runs.
        process.kill(target, sig);
        return;
      } catch {
        // Not a group leader (or already gone): try the process itself.
      }
    }
  }

  function toPod(record: PodRecord, live: boolean): RuntimePod {
    return {
      name: record.name,
      pool: record.pool,
      phase: live ? (record.pid === null ? "Pending" : "Running") : record.terminatingSince ? "Succeeded" : "Failed",
      createdAt: new Date(record.createdAt),
      labels: { ...record.labels },
      terminating: record.terminatingSince !== undefined,
    };
  }

  /**
   * Every recorded pod, as the runtime sees it now. A terminating pod whose process has ended is
   * forgotten (its deletion is complete); one past its stop timeout is killed.
   */
  function scan(): RuntimePod[] {
    let files: string[];
    try {
      files = readdirSync(podDir).filter((f) => f.endsWith(".pod.json"));
    } catch {
      return [];
    }
    const pods: RuntimePod[] = [];
    for (const file of files) {
      const record = readRecord(file.slice(0, -".pod.json".length));
      if (!record) continue;
      const live = alive(record);
      if (record.terminatingSince !== undefined) {
        if (!live) {
          forget(record.name);
          continue;
        }
        if (Date.now() - Date.parse(record.terminatingSince) > stopTimeoutMs) signal(record, "SIGKILL");
      }
      pods.push(toPod(record, live));
    }
    return pods.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.name.localeCompare(b.name));
  }

  async function tokenFile(pool: string): Promise<string> {
    const token = await options.agentToken(pool);
    const path = join(podDir, "tokens", `${pool}.token`);
    let current: string | null = null;
    try {
      current = readFileSync(path, "utf8");
    } catch {
      // First pod of the pool.
    }
    if (current !== token) {
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, token, { mode: 0o600 });
      renameSync(temp, path);
    }
    return path;
  }

  async function start(pool: RuntimePoolSpec, podName: string, record: PodRecord): Promise<void> {
    const env: Record<string, string> = {
      BERTH_API_URL: options.apiUrl,
      BERTH_AGENT_TOKEN_FILE: await tokenFile(pool.name),
      BERTH_POD_NAME: podName,
      BERTH_POOL: pool.name,
      BERTH_SLOTS: String(pool.slotsPerPod),
      BERTH_WORK_DIR: workDirOf(podName),
      BERTH_HEARTBEAT_MS: String(options.heartbeatMs ?? 5000),
      BERTH_ORPHAN_EXIT_SECONDS: String(options.orphanExitSeconds ?? 600),
    };
    for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
    const log = openSync(join(podDir, `${podName}.log`), "a", 0o600);
    // Compiled JavaScript imports @berth/core's compiled dist/, as the compiled server does.
    const args = script.endsWith(".ts") ? ["--import", "tsx", script] : ["--conditions=berth-dist", script];
    try {
      const child = spawn(process.execPath, args, { cwd: CORE_DIR, env, stdio: ["ignore", log, log], detached: true });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", (error) => reject(new PodStartError(podName, error)));
      });
      // Later errors (a failed kill) change nothing: the pod directory says how the pod is.
      child.on("error", () => {});
      child.once("exit", poke);
      child.unref();
      const pid = child.pid!;
      writeRecord({ ...record, pid, procStart: processState(pid)?.start ?? null });
    } catch (error) {
      forget(podName);
      throw error;
    } finally {
      closeSync(log);
    }
  }

  const starting = new Map<string, Promise<void>>();

  function stop(record: PodRecord): void {
    if (record.terminatingSince === undefined) {
      record.terminatingSince = new Date().toISOString();
      writeRecord(record);
    }
    signal(record, "SIGTERM");
    const timer = setTimeout(() => {
      timers.delete(timer);
      const now = readRecord(record.name);
      if (now && alive(now)) signal(now, "SIGKILL");
      poke();
    }, stopTimeoutMs);
    timer.unref();
    timers.add(timer);
    poke();
  }

  const runtime: LocalRuntime = {
    kind: "local",
    scope,
    podDir,

    async list(pool) {
      return scan().filter((p) => p.pool === pool.name);
    },

    async listAll() {
      return scan();
    },

    async create(pool, podName) {
      assertPodName(podName);
      if (closed.signal.aborted) throw new RuntimeClosedError("create a pod");
      // Two creates of one name at once (here) start one process.
      const pending = starting.get(podName);
      if (pending) await pending;
      const existing = readRecord(podName);
      if (existing) {
        if (existing.pool !== pool.name) throw new PodNameConflictError(podName, pool.name, existing.pool);
        return toPod(existing, alive(existing));
      }
      const record: PodRecord = {
        name: podName,
        pool: pool.name,
        pid: null,
        procStart: null,
        createdAt: new Date().toISOString(),
        labels: { [POOL_LABEL]: pool.name, [MANAGED_LABEL]: "true" },
      };
      // The exclusive write claims the name, also against another replica on the same directory.
      if (!writeRecord(record, true)) return runtime.create(pool, podName);
      const run = start(pool, podName, record);
      starting.set(podName, run);
      try {
        await run;
      } finally {
        starting.delete(podName);
      }
      started.add(podName);
      poke();
      const now = readRecord(podName)!;
      if (closed.signal.aborted) {
        stop(now);
        throw new RuntimeClosedError("create a pod");
      }
      return toPod(now, true);
    },

    async delete(pool, podName) {
      assertPodName(podName);
      // A pod still starting is deleted once it runs, not left behind.
      await starting.get(podName)?.catch(() => {});
      const record = readRecord(podName);
      // Gone already, or another pool's: nothing of this pool to delete.
      if (!record || record.pool !== pool.name) return;
      if (!alive(record)) {
        forget(podName);
        poke();
        return;
      }
      stop(record);
    },

    async *watch(pool, signal) {
      const stopWatching = AbortSignal.any([signal, closed.signal]);
      if (stopWatching.aborted) return;
      const pokes = on(changes, "poke", { signal: stopWatching });
      let known = new Map<string, RuntimePod>();
      yield { type: "resync" };
      for (const pod of scan().filter((p) => p.pool === pool.name)) {
        known.set(pod.name, pod);
        yield { type: "added", pod };
      }
      yield { type: "synced" };
      const pollMs = options.watchPollMs ?? 1000;
      const tick = setInterval(poke, pollMs);
      tick.unref();
      try {
        for await (const _ of pokes) {
          const now = new Map(scan().filter((p) => p.pool === pool.name).map((p) => [p.name, p]));
          const events: RuntimeEvent[] = [];
          for (const [name, pod] of now) {
            const before = known.get(name);
            if (!before) events.push({ type: "added", pod });
            else if (before.terminating !== pod.terminating || before.phase !== pod.phase) events.push({ type: "modified", pod });
          }
          for (const [name, pod] of known) {
            if (!now.has(name)) events.push({ type: "deleted", pod: { ...pod, phase: pod.terminating ? "Succeeded" : "Failed" } });
          }
          known = now;
          for (const event of events) yield event;
        }
      } catch (error) {
        if (!stopWatching.aborted) throw error;
      } finally {
        clearInterval(tick);
      }
    },

    async close() {
      if (closed.signal.aborted) return;
      closed.abort();
      await Promise.allSettled([...starting.values()]);
      if (options.stopPodsOnClose) {
        const mine = scan().filter((p) => p.terminating || started.has(p.name));
        for (const pod of mine) {
          const record = readRecord(pod.name);
          if (record && alive(record)) stop(record);
        }
        const deadline = Date.now() + stopTimeoutMs + 2000;
        while (Date.now() < deadline && mine.some((p) => readRecord(p.name) && alive(readRecord(p.name)!))) await sleep(50);
        for (const pod of mine) {
          const record = readRecord(pod.name);
          if (record && alive(record)) signal(record, "SIGKILL");
          forget(pod.name);
        }
      }
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },

    pids() {
      return scan()
        .map((p) => readRecord(p.name))
        .filter((r): r is PodRecord & { pid: number } => r !== null && r.pid !== null && alive(r))
        .map((r) => r.pid);
    },

    pidOf(podName) {
      const record = readRecord(podName);
      return record && record.pid !== null && alive(record) ? record.pid : undefined;
    },
  };
  return runtime;
}

function pruneLogs(dir: string): void {
  try {
    const cutoff = Date.now() - LOG_RETENTION_MS;
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".log")) continue;
      const name = file.slice(0, -".log".length);
      try {
        statSync(join(dir, `${name}.pod.json`));
        continue;
      } catch {
        // Its pod is gone: the log may go once it is old.
      }
      if (statSync(join(dir, file)).mtimeMs < cutoff) rmSync(join(dir, file), { force: true });
    }
  } catch {
    // A directory that cannot be read has nothing to prune.
  }
}
