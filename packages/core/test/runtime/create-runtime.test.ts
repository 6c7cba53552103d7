import { describe, expect, it } from "vitest";
import { AGENT_CONTAINER, buildPodManifest, createRuntime, InvalidPodSpecError, RuntimeClosedError, type RuntimePoolSpec } from "../../src/runtime/index.js";
import { FakeKubeApi } from "./fake-kube-api.js";

const pool: RuntimePoolSpec = { name: "builds", namespace: "ci", image: null, podTemplate: null, slotsPerPod: 4 };

describe("createRuntime", () => {
  it("builds the runtime the configuration names", async () => {
    const deps = { apiUrl: "http://127.0.0.1:4000", agentToken: async () => "t" };
    const local = createRuntime({ type: "local", namespace: "default" }, deps);
    const api = await new FakeKubeApi().start();
    const kubernetes = createRuntime({ type: "kubernetes", namespace: "default" }, { ...deps, kubeConfig: api.kubeConfig() });
    try {
      expect(local.kind).toBe("local");
      expect(kubernetes.kind).toBe("kubernetes");
      expect(await kubernetes.list(pool)).toEqual([]);
      expect(api.requests.at(-1)!.path).toBe("/api/v1/namespaces/ci/pods");
    } finally {
      await local.close();
      await kubernetes.close();
      await api.stop();
    }
  });
});

describe("the kubernetes runtime from createRuntime", () => {
  it("loads the Kubernetes client on its first call, and a runtime closed before any call makes none", async () => {
    const api = await new FakeKubeApi().start();
    const deps = { apiUrl: "http://berth-api:4000", agentToken: async () => "t", kubeConfig: api.kubeConfig() };
    try {
      const unused = createRuntime({ type: "kubernetes", namespace: "default" }, deps);
      await unused.close();
      await expect(unused.create(pool, "builds-x")).rejects.toBeInstanceOf(RuntimeClosedError);
      await expect(unused.list(pool)).rejects.toBeInstanceOf(RuntimeClosedError);
      const events = [];
      for await (const event of unused.watch(pool, new AbortController().signal)) events.push(event);
      expect(events).toEqual([]);
      expect(api.requests).toEqual([]);

      const used = createRuntime({ type: "kubernetes", namespace: "default" }, deps);
      expect(await used.list(pool)).toEqual([]);
      await used.close();
      await expect(used.create(pool, "builds-y")).rejects.toBeInstanceOf(RuntimeClosedError);
      expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v1/namespaces/ci/pods"]);
    } finally {
      await api.stop();
    }
  });
});

describe("buildPodManifest", () => {
  it("accepts a bare PodSpec as template and puts the pool's image on the container named agent, wherever it is", () => {
    const podTemplate = { nodeSelector: { disk: "ssd" }, containers: [{ name: "cache", image: "redis:7" }, { name: "agent" }] };
    const pod = buildPodManifest({ ...pool, image: "agent:2", podTemplate }, "builds-1", { apiUrl: "http://api" });
    expect(pod.spec!.nodeSelector).toEqual({ disk: "ssd" });
    expect(pod.spec!.containers.map((c) => [c.name, c.image])).toEqual([
      ["cache", "redis:7"],
      ["agent", "agent:2"],
    ]);
    expect(pod.spec!.containers[0]!.env).toBeUndefined();
    expect(pod.spec!.containers[1]!.env!.find((e) => e.name === "BERTH_AGENT_TOKEN")).toBeUndefined();
  });

  it("refuses a template whose containers include none named agent, rather than taking the first", () => {
    expect(() => buildPodManifest({ ...pool, image: "agent:2", podTemplate: { containers: [{ name: "worker" }] } }, "builds-1", { apiUrl: "http://api" })).toThrow(
      /the pod template has no container named "agent"/,
    );
  });

  it("names the agent container when the template has none, and takes the token from the Secret key", () => {
    const pod = buildPodManifest({ ...pool, image: "agent:3" }, "builds-2", { apiUrl: "http://api", agentTokenSecret: { name: "s", key: "k" } });
    expect(pod.spec!.containers[0]!.name).toBe(AGENT_CONTAINER);
    expect(pod.spec!.containers[0]!.env!.filter((e) => e.name === "BERTH_AGENT_TOKEN")).toEqual([{ name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }]);
  });

  it("is restricted by default, under what an admin-overridden template sets", () => {
    const plain = buildPodManifest({ ...pool, image: "agent:3" }, "builds-5", { apiUrl: "http://api" }).spec!;
    expect(plain.automountServiceAccountToken).toBe(false);
    expect(plain.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(plain.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });

    const podTemplate = {
      securityContext: { runAsUser: 1000 },
      initContainers: [{ name: "setup", image: "x" }],
      containers: [{ name: "agent", image: "a", securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } } }],
    };
    const spec = buildPodManifest({ ...pool, podTemplate }, "builds-6", { apiUrl: "http://api" }).spec!;
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, runAsUser: 1000 });
    expect(spec.initContainers![0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // allowPrivilegeEscalation: false beside privileged: true would be refused by the API server.
    expect(spec.containers[0]!.securityContext).toEqual({ privileged: true, capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } });
  });

  it("leaves the pool's template untouched", () => {
    const template = { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "agent", image: "x:1" }] } };
    const before = structuredClone(template);
    buildPodManifest({ ...pool, podTemplate: template }, "builds-3", { apiUrl: "http://api" });
    expect(template).toEqual(before);
  });

  it.each([
    ["a list", []],
    ["containers that are not objects", { containers: ["agent"] }],
    ["neither spec nor containers", { image: "x" }],
    ["a template without any image", { spec: { containers: [{ name: "agent" }] } }],
  ])("rejects %s with InvalidPodSpecError", (_what, podTemplate) => {
    expect(() => buildPodManifest({ ...pool, podTemplate }, "builds-4", { apiUrl: "http://api" })).toThrow(InvalidPodSpecError);
  });
});
