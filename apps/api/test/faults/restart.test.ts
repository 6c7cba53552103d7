// Crash-only restart of the embedded default: one API process on PGlite, started as the README
// starts the API alone, with local pods (@berth/agent as processes) or with pods in the
// (fake) Kubernetes cluster (@berth/agent run by its kubelet). While a plan waits for
// approval and two tasks run, the API is stopped for longer than the heartbeat timeout, one idle
// pod dies meanwhile, and the API is started again on the same data directory and port. Nothing
// is lost: the plan is approved and applies on its pod, the two tasks finish, no task goes to the
// dead pod, and no pod whose agent kept running is declared Lost.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startApiProcess, type ApiProcess } from "../support/processes.js";
import { Client, type Endpoint } from "./support/graphql.js";
import { startSharedKube, type SharedKube } from "./support/kube.js";
import { killLocalPods, localPodPids } from "./support/local-pods.js";
import { startPodAgents, waitForReadyPods } from "./support/workload.js";

const POOL = "restart";
const HEARTBEAT_TIMEOUT_S = 10;

interface TaskView {
  id: string;
  status: string;
  error: string | null;
  pod: { name: string } | null;
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, withinMs = 60_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${withinMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(200);
  }
}

/** Where the pods run, and how the test sees and kills them. */
interface Pods {
  env: Record<string, string>;
  pool: Record<string, unknown>;
  /** Names of the pods whose agents run now. */
  alive(): string[];
  /** Kills one pod's agent, as a crash would. */
  kill(name: string): void;
  stop(): Promise<void>;
}

async function localPods(dir: string): Promise<Pods> {
  return {
    env: {},
    pool: {},
    alive: () => [...localPodPids(dir).keys()],
    kill: (name) => process.kill(-localPodPids(dir).get(name)!, "SIGKILL"),
    stop: async () => void killLocalPods(dir),
  };
}

async function kubernetesPods(dir: string, url: () => string): Promise<Pods> {
  const kube: SharedKube = await startSharedKube(dir);
  const agents = await startPodAgents(kube, () => [{ name: "api", url: url() }], { heartbeatMs: 1000 });
  return {
    env: { POD_RUNTIME: "kubernetes", KUBECONFIG: kube.kubeconfig, KUBERNETES_NAMESPACE: "default", API_URL: "http://berth-api.berth.svc:4000" },
    pool: { runtime: "kubernetes", image: "berth/agent:test" },
    alive: () =>
      kube.api
        .podsIn("default")
        .filter((p) => !p.metadata.deletionTimestamp && !agents.kubelet.killed.has(p.metadata.name) && agents.kubelet.agents.has(p.metadata.name))
        .map((p) => p.metadata.name),
    kill: (name) => void agents.kubelet.kill("default", name),

    stop: async () => {
      await agents.stop();
      await kube.stop();
    },
  };
}

describe.each([
  ["local pods", localPods],
  ["Kubernetes pods", kubernetesPods],
] as const)("crash-only restart of the embedded API with %s", (_where, makePods) => {
  const token = `restart-admin-${randomBytes(12).toString("hex")}`;
  const client = new Client(token);
  let dir = "";
  let port = 0;
  let api: ApiProcess | undefined;
  let endpoint: Endpoint;
  let env: Record<string, string>;

  const task = async (id: string) => (await client.call(endpoint, "Task", { id })).task as TaskView;

  // What the scenario observed.
  let plan: TaskView;
  let long: TaskView[] = [];
  let idlePod = "";
  let busyPod = "";
  let podsAlive: string[] = [];
  let pods: Pods | undefined;
  let placedAfterRestart: TaskView;
  let applied: TaskView;
  let finished: TaskView[] = [];
  let lostEvents: { reason: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-restart-"));
    port = await freePort();
    pods = await makePods(dir, () => `http://127.0.0.1:${port}`);
    env = {
      ...pods.env,
      BERTH_DATA_DIR: dir,
      BERTH_ADMIN_TOKEN: token,
      BERTH_DEMO_POOL: "false",
      HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S),
      AGENT_HEARTBEAT_SECONDS: "1",
      RECONCILE_SCHEDULE: "* * * * * *",
      RATE_LIMIT_PER_MINUTE: "1000000",
    };
    api = await startApiProcess(env, 120_000, port);
    endpoint = { name: "api", url: api.url };
    await client.call(endpoint, "CreatePool", { input: { name: POOL, minPods: 2, maxPods: 2, slotsPerPod: 3, autoscale: false, ...pods.pool } }, "createPool");
    await waitForReadyPods(client, [endpoint], POOL, 2, 90_000);

    // Bin-packing fills one pod: the plan and two long tasks; the other pod stays idle.
    const submit = async (type: string, payload: unknown) => (await client.call(endpoint, "SubmitTask", { input: { pool: POOL, type, payload } }, "submitTask")).id as string;
    const planId = await submit("plan_and_apply", { durationMs: 100 });
    const longIds = [await submit("plan", { durationMs: 20_000 }), await submit("plan", { durationMs: 20_000 })];
    plan = await waitFor("the plan waits for approval", () => task(planId), (t) => t.status === "apply_pending");
    long = await Promise.all(longIds.map((id) => waitFor("a long task runs", () => task(id), (t) => t.status === "running")));
    busyPod = plan.pod!.name;
    expect(long.every((t) => t.pod?.name === busyPod)).toBe(true);
    const { pool } = await client.call(endpoint, "Pool", { name: POOL });
    idlePod = (pool.pods as { name: string }[]).map((p) => p.name).find((n) => n !== busyPod)!;

    await api.stop("SIGTERM");
    const stoppedAt = Date.now();
    podsAlive = pods.alive();
    // One pod dies while nobody watches.
    pods.kill(idlePod);
    await sleep(Math.max(0, stoppedAt + (HEARTBEAT_TIMEOUT_S + 3) * 1000 - Date.now()));

    api = await startApiProcess(env, 120_000, port);
    // At once, before the dead pod can be judged: this task must wait for a live pod, not land on
    // the dead one (the busy pod has no free slot).
    const afterId = await submit("plan", { durationMs: 50 });
    applied = await (async () => {
      await client.call(endpoint, "ApproveTask", { id: planId }, "approveTask");
      return waitFor("the plan applies", () => task(planId), (t) => t.status === "succeeded" || t.status === "failed");
    })();
    placedAfterRestart = await waitFor("the new task ends", () => task(afterId), (t) => t.status === "succeeded" || t.status === "failed", 90_000);
    finished = await Promise.all(long.map((t) => waitFor("a long task ends", () => task(t.id), (x) => x.status === "succeeded" || x.status === "failed", 60_000)));
    // The dead pod is judged by the passes after the restart (the work above may all be done
    // before the first of them); then a few more passes, in which nothing else may be judged Lost.
    const lostNow = async () =>
      ((await client.call(endpoint, "Pool", { name: POOL })).pool.scalingEvents as { kind: string; reason: string }[]).filter((e) => e.kind === "pod_lost");
    await waitFor("the dead pod is judged", lostNow, (events) => events.length > 0, 60_000);
    await sleep(3000);
    lostEvents = await lostNow();
  }, 300_000);

  afterAll(async () => {
    if (api) await client.call(endpoint, "DeletePool", { name: POOL }, "deletePool").catch(() => {});
    await api?.stop("SIGTERM");
    await pods?.stop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the pods outlived the stopped API", () => {
    expect([...podsAlive].sort()).toEqual([busyPod, idlePod].sort());
  });

  it("after the restart the plan could still be approved, and applied on its own pod", () => {
    expect(applied).toMatchObject({ status: "succeeded" });
    expect(applied.pod?.name).toBe(busyPod);
  });

  it("the two tasks that ran across the restart finished on their pod", () => {
    expect(finished.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("no task went to the dead pod, and only the dead pod was declared Lost", () => {
    expect(placedAfterRestart.status).toBe("succeeded");
    expect(placedAfterRestart.pod?.name).not.toBe(idlePod);
    expect(lostEvents).toHaveLength(1);
    expect(lostEvents[0]!.reason).toContain(idlePod);
  });
});
