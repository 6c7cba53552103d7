// The controller against the wire-format Kubernetes double with graceful deletion, as a real
// API server behaves: a deleted pod keeps being listed, with deletionTimestamp, for its grace
// period (here: until the test lets its kubelet finish, three passes later).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { heartbeat, registerAgent } from "../../src/agents/index.js";
import { PoolController, type PoolCondition } from "../../src/pools/index.js";
import { createKubernetesRuntime } from "../../src/runtime/kubernetes.js";
import type { PodRuntime } from "../../src/runtime/types.js";
import { FakeKubeApi } from "../runtime/fake-kube-api.js";
import { FakeTokenIssuer } from "../runtime/fake-token-issuer.js";
import { backends } from "../support/databases.js";
import { openCore, type CoreHarness } from "../support/core.js";

describe.each(backends)("Kubernetes scale-down with graceful deletion on %s", (backend) => {
  let h: CoreHarness;
  let api: FakeKubeApi;
  let runtime: PodRuntime;
  let controller: PoolController;
  const stops = new Map<string, () => void>();

  beforeAll(async () => {
    h = await openCore(backend, { realClock: true });
    api = await new FakeKubeApi({ defaultGracePeriodSeconds: 30 }).start();
    api.kubelet = { started: () => {}, terminating: (pod, stopped) => stops.set(pod.metadata.name, stopped) };
    runtime = createKubernetesRuntime({ apiUrl: "http://berth-api.berth.svc:4000", kubeConfig: api.kubeConfig(), agentTokens: new FakeTokenIssuer() });
  });
  beforeEach(async () => {
    await h.reset();
    api.clear();
    stops.clear();
    controller = new PoolController(h.ctx, { runtimes: { kubernetes: runtime }, heartbeatTimeoutSeconds: 30, startedAt: new Date(0) });
  });
  // A controller's housekeeping (orphans, tokens) runs beside its passes: it must end with its test.
  afterEach(() => controller.close());
  afterAll(async () => {
    await runtime?.close();
    await api?.stop();
    await h?.close();
  });

  const rows = async () => (await h.ctx.prisma.pod.findMany({ orderBy: { name: "asc" } })).map((p) => `${p.name}:${p.phase}`);
  const agents = async () => {
    for (const p of await h.ctx.prisma.pod.findMany({ where: { phase: { in: ["Starting", "Ready"] } } })) {
      if (p.phase === "Starting") await registerAgent(h.ctx, p.name);
      else await heartbeat(h.ctx, p.name);
    }
  };
  const degraded = async () => {
    const pool = await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "kube" } });
    return (pool.conditions as unknown as PoolCondition[]).find((c) => c.type === "Degraded")?.status;
  };

  it("a deleted pod is never taken back, no pod is declared Lost, the pool never shows Degraded; the row goes once the pod has left", async () => {
    await controller.createPool({ name: "kube", runtime: "kubernetes", image: "berth/agent:test", minPods: 0, maxPods: 3, autoscale: false });
    await controller.scalePool("kube", 3);
    await agents();
    await controller.reconcileAll();
    const before = await rows();
    expect(before.map((r) => r.split(":")[1])).toEqual(["Ready", "Ready", "Ready"]);

    const result = await controller.scalePool("kube", 1);
    expect(result).toMatchObject({ applied: 2, podCount: 1 });
    const deleted = [...stops.keys()];
    expect(deleted).toHaveLength(2);
    for (const name of deleted) expect(api.pod("default", name)!.metadata.deletionTimestamp).toBeDefined();

    for (let pass = 0; pass < 3; pass++) {
      await agents();
      const [report] = await controller.reconcileAll();
      expect(report!.adopted).toEqual([]);
      expect(report!.lost).toEqual([]);
      expect(await degraded()).toBe("False");
      // Still listed by Kubernetes, still Terminating here: not a new pod, not a lost one.
      for (const name of deleted) expect(await rows()).toContain(`${name}:Terminating`);
    }
    // No other pod was created in their place.
    expect(await h.ctx.prisma.pod.count()).toBe(3);

    for (const name of deleted) stops.get(name)!();
    await agents();
    await controller.reconcileAll();
    expect((await rows()).map((r) => r.split(":")[1])).toEqual(["Ready"]);
    expect(await h.ctx.prisma.scalingEvent.count({ where: { kind: "pod_lost" } })).toBe(0);
    expect(await degraded()).toBe("False");
  });

  it("patches a pod's deletion cost only when its busy slots change", async () => {
    await controller.createPool({ name: "kube", runtime: "kubernetes", image: "berth/agent:test", minPods: 2, maxPods: 2, autoscale: false });
    await controller.reconcileAll();
    await agents();
    const patches = () => api.requestsMatching("PATCH").length;
    await controller.reconcileAll();
    const first = patches();
    for (let i = 0; i < 3; i++) {
      await agents();
      await controller.reconcileAll();
    }
    // Nothing changed: the annotation (0, set when the pod was created) already says so.
    expect(patches()).toBe(first);
    const pool = await h.ctx.prisma.pool.findUniqueOrThrow({ where: { name: "kube" } });
    const task = await h.ctx.prisma.task.create({ data: { poolId: pool.id, type: "x", status: "running" } });
    const [pod] = await h.ctx.prisma.pod.findMany({ where: { poolId: pool.id }, orderBy: { name: "asc" } });
    await h.ctx.prisma.slot.updateMany({ where: { podId: pod!.id, index: 0 }, data: { state: "running", taskId: task.id } });
    await h.ctx.prisma.task.update({ where: { id: task.id }, data: { podName: pod!.name, slotIndex: 0 } });
    await agents();
    await controller.reconcileAll();
    expect(patches()).toBe(first + 1);
    expect(api.pod("default", pod!.name)!.metadata.annotations!["controller.kubernetes.io/pod-deletion-cost"]).toBe("1");
    await agents();
    await controller.reconcileAll();
    expect(patches()).toBe(first + 1);
  });

  it("deletes runtime pods labelled as Berth's that have no row (orphans), and leaves the others alone", async () => {
    await controller.createPool({ name: "kube", runtime: "kubernetes", image: "berth/agent:test", minPods: 1, maxPods: 1, autoscale: false });
    await controller.reconcileAll();
    api.seed("default", "ghost-abcde", { "berth.dev/pool": "gone-pool", "berth.dev/managed": "true" });
    api.seed("default", "unrelated", { app: "other" });
    const scanner = new PoolController(h.ctx, { runtimes: { kubernetes: runtime }, heartbeatTimeoutSeconds: 30 });
    const orphans = await scanner.scanForOrphans();
    await scanner.close();
    expect(orphans).toEqual(["ghost-abcde"]);
    expect(api.pod("default", "ghost-abcde")!.metadata.deletionTimestamp).toBeDefined();
    expect(api.pod("default", "unrelated")!.metadata.deletionTimestamp).toBeUndefined();
    const [kept] = await h.ctx.prisma.pod.findMany();
    expect(api.pod("default", kept!.name)!.metadata.deletionTimestamp).toBeUndefined();
  });

  it("watching: passes read the informer instead of listing pods, and a pod that fails is judged within a second, without a scheduled pass", async () => {
    const watching = new PoolController(h.ctx, { runtimes: { kubernetes: runtime }, heartbeatTimeoutSeconds: 30, startedAt: new Date(0), watch: true });
    try {
      await watching.createPool({ name: "kube", runtime: "kubernetes", image: "berth/agent:test", minPods: 2, maxPods: 2, autoscale: false });
      await watching.reconcileAll();
      await agents();
      const lists = () => api.requestsMatching("GET", "/api/v1/namespaces/default/pods").filter((r) => !r.query.has("watch")).length;
      // The first pass may list before the informer has its first full list; after that, none.
      await watching.reconcileAll();
      const before = lists();
      for (let i = 0; i < 10; i++) {
        await agents();
        await watching.reconcileAll();
      }
      expect(lists() - before).toBe(0);

      // A pod's container dies: the watch says so, and the pool's pass follows by itself.
      const [pod] = await h.ctx.prisma.pod.findMany({ where: { phase: "Ready" }, orderBy: { name: "asc" } });
      const failedAt = Date.now();
      api.setPhase("default", pod!.name, "Failed");
      for (let waited = 0; (await h.ctx.prisma.pod.findUnique({ where: { name: pod!.name } }))?.phase !== "Lost"; waited += 50) {
        if (waited > 5000) throw new Error("the failed pod was not judged by a triggered pass");
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(Date.now() - failedAt).toBeLessThan(1500);
      expect((await h.ctx.prisma.scalingEvent.findFirst({ where: { kind: "pod_lost" } }))!.reason).toContain("its runtime pod is gone");
    } finally {
      await watching.close();
    }
  });

  it("a pod whose agent comes up makes its slots usable at once, without waiting for a pass", async () => {
    await controller.createPool({ name: "kube", runtime: "kubernetes", image: "berth/agent:test", minPods: 0, maxPods: 1, autoscale: true });
    const { submitTask } = await import("../../src/tasks/index.js");
    const task = await submitTask(h.ctx, { pool: "kube", type: "plan" });
    expect(task.status).toBe("pending");
    await controller.reconcileAll();
    const [pod] = await h.ctx.prisma.pod.findMany({ where: { pool: { name: "kube" } } });
    const upAt = Date.now();
    await registerAgent(h.ctx, pod!.name);
    const placed = await h.ctx.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(placed).toMatchObject({ status: "running", podName: pod!.name });
    expect(Date.now() - upAt).toBeLessThan(1000);
  });
});
