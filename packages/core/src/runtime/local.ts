import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter, on } from "node:events";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./backoff.js";
import { PodNameConflictError, PodStartError, RuntimeClosedError, assertPodName } from "./errors.js";
import { MANAGED_LABEL, POOL_LABEL, type PodRuntime, type RuntimeEvent, type RuntimePod, type RuntimePoolSpec } from "./types.js";

export interface LocalRuntimeOptions {
  /** `BERTH_API_URL` for the agents. */
  apiUrl: string;
  /** `BERTH_AGENT_TOKEN` for a pool's agents. */
  agentToken: (pool: string) => Promise<string>;
  /** The program each pod runs (TypeScript, through tsx). Default: the bundled demo agent. */
  agentScript?: string;
  /** Each pod's stdout and stderr go to `<logDir>/<pod>.log`; discarded when absent. */
  logDir?: string;
  /** `BERTH_HEARTBEAT_MS` for the agents (their default, 5000, when absent). */
  heartbeatMs?: number;
  /** How long a deleted pod gets between SIGTERM and SIGKILL. Default 5000 ms. */
  stopTimeoutMs?: number;
}

/** The local runtime, which can also say which processes are its pods. */
export type LocalRuntime = PodRuntime & {
  /** Process ids of the live pods. */
  pids(): number[];
  pidOf(podName: string): number | undefined;
};

interface LocalPod {
  pod: RuntimePod;
  child: ChildProcess;
  exited: Promise<void>;
  stopping?: Promise<void>;
}

const DEMO_AGENT = fileURLToPath(new URL("./demo-agent.ts", import.meta.url));
const TETHER = new URL("./tether.ts", import.meta.url).href;
/** The core package: `--import tsx` resolves from here wherever the API was started. */
const CORE_DIR = fileURLToPath(new URL("../..", import.meta.url));
/** What a pod inherits from this process's environment: enough to run node, none of the API's secrets. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "TZ", "LANG", "SYSTEMROOT"];

/**
 * Pods as child processes of this one, each running the agent program with the env a real
 * pod's agent gets. No shell is involved. Every child is killed on `close()` and when this
 * process exits; a tether in each child ends it when this process dies without exiting.
 */
export function createLocalRuntime(options: LocalRuntimeOptions): LocalRuntime {
  const pods = new Map<string, LocalPod>();
  const changes = new EventEmitter();
  const closed = new AbortController();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const script = options.agentScript ?? DEMO_AGENT;

  const killAll = () => {
    for (const { child } of pods.values()) child.kill("SIGKILL");
  };
  process.once("exit", killAll);

  const emit = (event: RuntimeEvent) => changes.emit("change", event);
  const snapshot = (record: LocalPod): RuntimePod => ({ ...record.pod, labels: { ...record.pod.labels } });

  async function start(pool: RuntimePoolSpec, podName: string): Promise<LocalPod> {
    const env: Record<string, string> = {
      BERTH_API_URL: options.apiUrl,
      BERTH_AGENT_TOKEN: await options.agentToken(pool.name),
      BERTH_POD_NAME: podName,
      BERTH_POOL: pool.name,
      BERTH_SLOTS: String(pool.slotsPerPod),
      BERTH_HEARTBEAT_MS: String(options.heartbeatMs ?? 5000),
    };
    for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
    let log: number | "ignore" = "ignore";
    if (options.logDir) {
      mkdirSync(options.logDir, { recursive: true });
      log = openSync(join(options.logDir, `${podName}.log`), "a");
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ["--import", "tsx", "--import", TETHER, script], { cwd: CORE_DIR, env, stdio: ["ignore", log, log, "ipc"] });
    } finally {
      if (typeof log === "number") closeSync(log);
    }
    const pod: RuntimePod = {
      name: podName,
      pool: pool.name,
      phase: "Pending",
      createdAt: new Date(),
      labels: { [POOL_LABEL]: pool.name, [MANAGED_LABEL]: "true" },
      terminating: false,
    };
    const record: LocalPod = {
      pod,
      child,
      exited: new Promise((resolve) =>
        child.once("exit", (code) => {
          const known = pods.get(podName) === record;
          if (known) pods.delete(podName);
          pod.phase = code === 0 ? "Succeeded" : "Failed";
          if (known) emit({ type: "deleted", pod: snapshot(record) });
          resolve();
        }),
      ),
    };
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) => reject(new PodStartError(podName, error)));
    });
    // Later errors (a failed kill) change nothing: the exit handler reports how the pod ended.
    child.on("error", () => {});
    pod.phase = "Running";
    return record;
  }

  async function stop(record: LocalPod): Promise<void> {
    if (record.child.exitCode !== null || record.child.signalCode !== null) return record.exited;
    record.pod.terminating = true;
    emit({ type: "modified", pod: snapshot(record) });
    record.child.kill("SIGTERM");
    const timer = new AbortController();
    const exited = await Promise.race([record.exited.then(() => true), sleep(stopTimeoutMs, timer.signal).then(() => false)]);
    timer.abort();
    if (!exited) {
      record.child.kill("SIGKILL");
      await record.exited;
    }
  }

  const starting = new Map<string, Promise<LocalPod>>();
  const listPods = (pool: RuntimePoolSpec) => [...pods.values()].filter((r) => r.pod.pool === pool.name).map(snapshot);

  return {
    kind: "local",

    async list(pool) {
      return listPods(pool);
    },

    async create(pool, podName) {
      assertPodName(podName);
      if (closed.signal.aborted) throw new RuntimeClosedError("create a pod");
      const existing = pods.get(podName);
      if (existing) {
        if (existing.pod.pool !== pool.name) throw new PodNameConflictError(podName, pool.name, existing.pod.pool);
        return snapshot(existing);
      }
      // Two creates of one name at once start one process.
      let pending = starting.get(podName);
      if (!pending) {
        pending = start(pool, podName).then((record) => {
          if (closed.signal.aborted) record.child.kill("SIGKILL");
          else if (record.child.exitCode === null && record.child.signalCode === null) {
            pods.set(podName, record);
            emit({ type: "added", pod: snapshot(record) });
          }
          return record;
        });
        starting.set(podName, pending);
        void pending.finally(() => starting.delete(podName)).catch(() => {});
      }
      const record = await pending;
      if (closed.signal.aborted) throw new RuntimeClosedError("create a pod");
      if (record.pod.pool !== pool.name) throw new PodNameConflictError(podName, pool.name, record.pod.pool);
      return snapshot(record);
    },

    async delete(pool, podName) {
      assertPodName(podName);
      // A pod still starting is deleted once it runs, not left behind.
      await starting.get(podName)?.catch(() => {});
      const record = pods.get(podName);
      // Gone already, or another pool's: nothing of this pool to delete.
      if (!record || record.pod.pool !== pool.name) return;
      record.stopping ??= stop(record);
      await record.stopping;
    },

    async *watch(pool, signal) {
      const stopWatching = AbortSignal.any([signal, closed.signal]);
      if (stopWatching.aborted) return;
      // Subscribed before the snapshot, so that no change falls between the two.
      const events = on(changes, "change", { signal: stopWatching });
      yield { type: "resync" };
      for (const pod of listPods(pool)) yield { type: "added", pod };
      try {
        for await (const [event] of events as AsyncIterable<[RuntimeEvent]>) {
          if (event.type === "resync" || event.pod.pool === pool.name) yield event;
        }
      } catch (error) {
        if (!stopWatching.aborted) throw error;
      }
    },

    async close() {
      if (closed.signal.aborted) return;
      closed.abort();
      await Promise.allSettled([...starting.values()]);
      await Promise.all(
        [...pods.values()].map((record) => {
          record.stopping ??= stop(record);
          return record.stopping;
        }),
      );
      process.removeListener("exit", killAll);
    },

    pids() {
      return [...pods.values()].map((r) => r.child.pid).filter((pid): pid is number => pid !== undefined);
    },

    pidOf(podName) {
      return pods.get(podName)?.child.pid;
    },
  };
}
