// Crash-only restart of the embedded default: one API process on PGlite with local pods (the
// real demo agent), started as the README starts the API alone. While a plan waits for approval
// and two tasks run, the API is stopped for longer than the heartbeat timeout, one idle pod dies
// meanwhile, and the API is started again on the same data directory and port. Nothing is lost:
// the plan is approved and applies on its pod, the two tasks finish, no task goes to the dead
// pod, and no pod whose agent kept running is declared Lost.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startApiProcess, type ApiProcess } from "../support/processes.js";
import { Client, type Endpoint } from "./support/graphql.js";
import { killLocalPods, localPodPids } from "./support/local-pods.js";
import { waitForReadyPods } from "./support/workload.js";

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

describe("crash-only restart of the embedded API with local pods", () => {
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
  let podsAlive = new Map<string, number>();
  let placedAfterRestart: TaskView;
  let applied: TaskView;
  let finished: TaskView[] = [];
  let lostEvents: { reason: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-restart-"));
    port = await freePort();
    env = {
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
    await client.call(endpoint, "CreatePool", { input: { name: POOL, minPods: 2, maxPods: 2, slotsPerPod: 3, autoscale: false } }, "createPool");
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
    podsAlive = localPodPids(dir);
    // One pod dies while nobody watches.
    process.kill(-podsAlive.get(idlePod)!, "SIGKILL");
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
    lostEvents = ((await client.call(endpoint, "Pool", { name: POOL })).pool.scalingEvents as { kind: string; reason: string }[]).filter((e) => e.kind === "pod_lost");
  }, 300_000);

  afterAll(async () => {
    if (api) await client.call(endpoint, "DeletePool", { name: POOL }, "deletePool").catch(() => {});
    await api?.stop("SIGTERM");
    if (dir) killLocalPods(dir);
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it("the pods outlived the stopped API", () => {
    expect([...podsAlive.keys()].sort()).toEqual([busyPod, idlePod].sort());
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
