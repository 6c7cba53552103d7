import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKubernetesRuntime, InvalidDeletionCostError } from "../../src/runtime/kubernetes.js";
import { InvalidPodNameError, InvalidPodSpecError, KubernetesApiError, PodNameConflictError } from "../../src/runtime/errors.js";
import type { PodRuntime, RuntimeEvent, RuntimePoolSpec } from "../../src/runtime/types.js";
import { FakeKubeApi } from "./fake-kube-api.js";
import { FakeTokenIssuer } from "./fake-token-issuer.js";
import { collect, until } from "./wait.js";

const api = new FakeKubeApi();
const runtimes: PodRuntime[] = [];
let poolCounter = 0;

beforeAll(async () => {
  await api.start();
});
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});
afterAll(async () => {
  await api.stop();
});

function pool(overrides: Partial<RuntimePoolSpec> = {}): RuntimePoolSpec {
  return { name: `p${++poolCounter}`, namespace: "workers", image: "registry.example/agent:1", podTemplate: null, slotsPerPod: 3, ...overrides };
}

function runtime(extra: Partial<Parameters<typeof createKubernetesRuntime>[0]> = {}): PodRuntime {
  const r = createKubernetesRuntime({
    kubeConfig: api.kubeConfig(),
    apiUrl: "http://berth-api.berth:4000",
    watchBackoff: { initialMs: 10, maxMs: 40 },
    ...extra,
  });
  runtimes.push(r);
  return r;
}

function summary(events: RuntimeEvent[]): string[] {
  return events.map((e) => (e.type === "resync" || e.type === "synced" ? e.type : `${e.type}:${e.pod.name}:${e.pod.phase}${e.pod.terminating ? ":terminating" : ""}`));
}

/** A kubelet that keeps each deleted pod's "stop" until the test says the containers ended. */
function holdingKubelet() {
  const stops = new Map<string, () => void>();
  api.kubelet = { started: () => {}, terminating: (pod, stopped) => stops.set(pod.metadata.name, stopped) };
  return { stop: (name: string) => stops.get(name)?.(), stops };
}

describe("kubernetes runtime: create", () => {
  it("POSTs a labelled, restricted Pod with the agent's env and restartPolicy Never to the pool's namespace", async () => {
    const p = pool();
    const issuer = new FakeTokenIssuer();
    const created = await runtime({ agentTokens: issuer }).create(p, `${p.name}-a1b2c`);
    const [tokenId] = issuer.valid(p.name);

    const post = api.requestsMatching("POST").at(-1)!;
    expect(post.path).toBe("/api/v1/namespaces/workers/pods");
    expect(post.headers.authorization).toBe("Bearer fake-bearer-token");
    const body = post.body as {
      kind: string;
      metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
      spec: { restartPolicy: string; automountServiceAccountToken: boolean; securityContext: unknown; containers: { name: string; image: string; env: unknown[]; resources: unknown; securityContext: unknown }[] };
    };
    expect(body.kind).toBe("Pod");
    expect(body.metadata.name).toBe(`${p.name}-a1b2c`);
    expect(body.metadata.labels).toEqual({ "berth.dev/pool": p.name, "berth.dev/managed": "true" });
    expect(body.metadata.annotations).toEqual({ "controller.kubernetes.io/pod-deletion-cost": "0" });
    expect(body.spec.restartPolicy).toBe("Never");
    expect(body.spec.containers).toHaveLength(1);
    expect(body.spec.containers[0]!.image).toBe("registry.example/agent:1");
    expect(body.spec.containers[0]!.env).toEqual([
      { name: "BERTH_API_URL", value: "http://berth-api.berth:4000" },
      { name: "BERTH_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "BERTH_POOL", value: p.name },
      { name: "BERTH_SLOTS", value: "3" },
      { name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: `berth-agent-${p.name}`, key: tokenId } } },
    ]);
    expect(body.spec.automountServiceAccountToken).toBe(false);
    expect(body.spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(body.spec.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(body.spec.containers[0]!.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    expect(created).toMatchObject({ name: `${p.name}-a1b2c`, pool: p.name, phase: "Pending", terminating: false });
    expect(created.createdAt).toBeInstanceOf(Date);
  });

  it("merges the pool's pod template under Berth's name, labels, env and restart policy, finding the agent container by name", async () => {
    const p = pool({
      image: null,
      podTemplate: {
        metadata: { labels: { team: "infra", "berth.dev/pool": "spoofed" }, annotations: { note: "kept" } },
        spec: {
          serviceAccountName: "runner",
          restartPolicy: "Always",
          containers: [
            { name: "sidecar", image: "proxy:2" },
            { name: "agent", image: "custom/agent:7", env: [{ name: "EXTRA", value: "1" }, { name: "BERTH_POOL", value: "wrong" }] },
          ],
        },
      },
    });
    const issuer = new FakeTokenIssuer();
    await runtime({ agentTokens: issuer }).create(p, `${p.name}-x`);

    const body = api.requestsMatching("POST").at(-1)!.body as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { serviceAccountName: string; restartPolicy: string; containers: { name: string; image: string; env?: { name: string; value?: string }[] }[] } };
    expect(body.metadata.labels).toEqual({ team: "infra", "berth.dev/pool": p.name, "berth.dev/managed": "true" });
    expect(body.metadata.annotations.note).toBe("kept");
    expect(body.spec.serviceAccountName).toBe("runner");
    expect(body.spec.restartPolicy).toBe("Never");
    expect(body.spec.containers[0]).toEqual({ name: "sidecar", image: "proxy:2", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } });
    const agent = body.spec.containers[1]!;
    expect(agent.image).toBe("custom/agent:7");
    expect(agent.env!.filter((e) => e.name === "BERTH_POOL")).toEqual([{ name: "BERTH_POOL", value: p.name }]);
    expect(agent.env).toContainEqual({ name: "EXTRA", value: "1" });
    expect(agent.env).toContainEqual({ name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: `berth-agent-${p.name}`, key: issuer.valid(p.name)[0] } } });
  });

  it("returns the existing pod when the name already exists in the pool, without a second pod", async () => {
    const p = pool();
    const r = runtime();
    const first = await r.create(p, `${p.name}-same`);
    const again = await r.create(p, `${p.name}-same`);
    expect(again.name).toBe(first.name);
    expect(again.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(api.requestsMatching("GET", `/api/v1/namespaces/workers/pods/${p.name}-same`)).toHaveLength(1);
    expect(await r.list(p)).toHaveLength(1);
  });

  it("refuses a name taken by a pod that is not the pool's", async () => {
    const p = pool();
    api.seed("workers", `${p.name}-taken`, { app: "other" });
    await expect(runtime().create(p, `${p.name}-taken`)).rejects.toBeInstanceOf(PodNameConflictError);
  });

  it("rejects an invalid name or a pool without image before calling the API", async () => {
    const before = api.requests.length;
    const r = runtime();
    await expect(r.create(pool(), "Not_A_Label")).rejects.toBeInstanceOf(InvalidPodNameError);
    await expect(r.create(pool({ image: null }), "fine-name")).rejects.toBeInstanceOf(InvalidPodSpecError);
    await expect(r.create(pool({ podTemplate: "nope" }), "fine-name")).rejects.toBeInstanceOf(InvalidPodSpecError);
    expect(api.requests.length).toBe(before);
  });

  it("turns an API refusal into a KubernetesApiError with the Status reason", async () => {
    const r = runtime({ kubeConfig: api.kubeConfig("default", "wrong-token") });
    const error = await r.list(pool()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ statusCode: 401, operation: "list pods" });

    api.fail("POST", 403, "Forbidden");
    const p = pool();
    const refused = await runtime().create(p, `${p.name}-x`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubernetesApiError);
    expect(refused).toMatchObject({ statusCode: 403, reason: "Forbidden", operation: "create pod" });
  });
});

describe("kubernetes runtime: agent tokens in Secrets", () => {
  type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
  const podBodies = () => api.requestsMatching("POST").filter((r) => r.path.endsWith("/pods")).map((r) => r.body as { metadata: { name: string }; spec: { containers: { env?: Env[] }[] } });
  const tokenKeyOf = (podName: string) =>
    podBodies()
      .find((b) => b.metadata.name === podName)!
      .spec.containers.flatMap((c) => c.env ?? [])
      .find((e) => e.name === "BERTH_AGENT_TOKEN")!.valueFrom!.secretKeyRef!.key;

  /** No valid token of the pool is an orphan: each is the Secret's current one or referred to by a pod that exists. */
  function expectNoOrphans(issuer: FakeTokenIssuer, p: RuntimePoolSpec) {
    const secret = api.secret(p.namespace, `berth-agent-${p.name}`);
    const referenced = new Set(api.objects().pods.filter((pod) => pod.metadata.labels?.["berth.dev/pool"] === p.name).map((pod) => tokenKeyOf(pod.metadata.name)));
    for (const id of issuer.valid(p.name)) expect(id === secret?.metadata.annotations?.["berth.dev/agent-token"] || referenced.has(id)).toBe(true);
  }

  it("keep each pool's token in a labelled Secret of its namespace that pods refer to, never in the pod spec", async () => {
    const p = pool();
    const issuer = new FakeTokenIssuer();
    const r = runtime({ agentTokens: issuer });
    await r.create(p, `${p.name}-one`);
    await r.create(p, `${p.name}-two`);

    expect(issuer.valid(p.name)).toHaveLength(1);
    const [id] = issuer.valid(p.name);
    const secret = api.secret("workers", `berth-agent-${p.name}`)!;
    expect(secret.type).toBe("Opaque");
    expect(secret.metadata.labels).toEqual({ "berth.dev/pool": p.name, "berth.dev/managed": "true", "app.kubernetes.io/managed-by": "berth" });
    expect(secret.metadata.annotations).toEqual({ "berth.dev/agent-token": id });
    expect(Buffer.from(secret.data![id!]!, "base64").toString()).toBe(issuer.tokens.get(id!)!.token);
    expect([tokenKeyOf(`${p.name}-one`), tokenKeyOf(`${p.name}-two`)]).toEqual([id, id]);
    for (const body of podBodies()) for (const token of issuer.secrets()) expect(JSON.stringify(body)).not.toContain(token);
  });

  it("rotate when Berth restarts, revoking the previous token once no pod refers to it", async () => {
    const p = pool();
    const issuer = new FakeTokenIssuer();
    issuer.now = () => new Date(Date.now() - 10 * 60_000); // minted long enough ago to be pruned
    const before = runtime({ agentTokens: issuer });
    await before.create(p, `${p.name}-old`);
    const oldKey = tokenKeyOf(`${p.name}-old`);
    await before.close();

    // The next process (a rollout of Berth) starts a pod: a fresh token, the old one kept for the old pod.
    const after = runtime({ agentTokens: issuer });
    await after.create(p, `${p.name}-new`);
    const newKey = tokenKeyOf(`${p.name}-new`);
    expect(newKey).not.toBe(oldKey);
    await after.pruneAgentTokens!(p);
    expect(issuer.valid(p.name).sort()).toEqual([oldKey, newKey].sort());
    expect(Object.keys(api.secret("workers", `berth-agent-${p.name}`)!.data!).sort()).toEqual([oldKey, newKey].sort());
    expectNoOrphans(issuer, p);

    // The old pod is gone for good: its token is revoked and leaves the Secret, on the watch's DELETED event.
    const controller = new AbortController();
    const watch = collect(after.watch(p, controller.signal));
    await watch.after(0, 3);
    api.remove("workers", `${p.name}-old`);
    await until(() => issuer.valid(p.name).length === 1);
    expect(issuer.valid(p.name)).toEqual([newKey]);
    await until(() => Object.keys(api.secret("workers", `berth-agent-${p.name}`)!.data!).length === 1);
    expect(Object.keys(api.secret("workers", `berth-agent-${p.name}`)!.data!)).toEqual([newKey]);
    expectNoOrphans(issuer, p);
    controller.abort();
    await watch.finished;
  });

  it("replace a current token that was revoked, and never revoke one minted in the last minutes", async () => {
    const p = pool();
    const issuer = new FakeTokenIssuer();
    const r = runtime({ agentTokens: issuer });
    await r.create(p, `${p.name}-a`);
    const first = tokenKeyOf(`${p.name}-a`);
    issuer.tokens.get(first)!.revoked = true;
    await r.create(p, `${p.name}-b`);
    const second = tokenKeyOf(`${p.name}-b`);
    expect(second).not.toBe(first);

    // A token another replica just minted and has not yet given to a pod survives a prune.
    const fresh = await issuer.mint(p.name);
    await r.pruneAgentTokens!(p);
    expect(issuer.valid(p.name).sort()).toEqual([second, fresh.id].sort());
  });

  it("delete the Secret when the pool is released; a second release is a no-op", async () => {
    const p = pool();
    const r = runtime({ agentTokens: new FakeTokenIssuer() });
    await r.create(p, `${p.name}-a`);
    expect(api.secret("workers", `berth-agent-${p.name}`)).toBeDefined();
    await r.releasePool!(p);
    expect(api.secret("workers", `berth-agent-${p.name}`)).toBeUndefined();
    await expect(r.releasePool!(p)).resolves.toBeUndefined();
  });
});

describe("kubernetes runtime: list, delete, deletion cost", () => {
  it("lists with the pool's label selector and maps the pod phase", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-one`);
    await r.create(p, `${p.name}-two`);
    api.seed("workers", `${p.name}-unmanaged`, { "berth.dev/pool": p.name });
    await r.create(pool(), "someone-else");
    api.setPhase("workers", `${p.name}-two`, "Running");

    const pods = await r.list(p);
    const get = api.requestsMatching("GET", "/api/v1/namespaces/workers/pods").at(-1)!;
    expect(get.path).toBe("/api/v1/namespaces/workers/pods");
    expect(get.query.get("labelSelector")).toBe(`berth.dev/pool=${p.name},berth.dev/managed=true`);
    expect(pods.map((x) => [x.name, x.phase]).sort()).toEqual([
      [`${p.name}-one`, "Pending"],
      [`${p.name}-two`, "Running"],
    ]);
  });

  it("deletes with the checked pod's uid as precondition; the pod is listed as terminating through its grace period, then gone; a missing pod counts as deleted", async () => {
    const kubelet = holdingKubelet();
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-gone`);
    const uid = api.pod("workers", `${p.name}-gone`)!.metadata.uid;
    await r.delete(p, `${p.name}-gone`);

    const del = api.requestsMatching("DELETE").at(-1)!;
    expect(del.path).toBe(`/api/v1/namespaces/workers/pods/${p.name}-gone`);
    expect(del.body).toMatchObject({ preconditions: { uid } });
    // Graceful deletion: still there, with deletionTimestamp, until the kubelet has stopped it.
    expect(api.pod("workers", `${p.name}-gone`)!.metadata).toMatchObject({ deletionGracePeriodSeconds: 30, deletionTimestamp: expect.any(String) });
    expect(await r.list(p)).toEqual([expect.objectContaining({ name: `${p.name}-gone`, terminating: true })]);
    await expect(r.delete(p, `${p.name}-gone`)).resolves.toBeUndefined();

    kubelet.stop(`${p.name}-gone`);
    expect(api.pod("workers", `${p.name}-gone`)).toBeUndefined();
    expect(await r.list(p)).toEqual([]);
    await expect(r.delete(p, `${p.name}-gone`)).resolves.toBeUndefined();
    await expect(r.delete(p, `${p.name}-never`)).resolves.toBeUndefined();
    api.kubelet = null;
  });

  it("never deletes a pod that is not the pool's", async () => {
    const p = pool();
    api.seed("workers", `${p.name}-foreign`, { app: "other" });
    await expect(runtime().delete(p, `${p.name}-foreign`)).rejects.toBeInstanceOf(PodNameConflictError);
    expect(api.pod("workers", `${p.name}-foreign`)).toBeDefined();
  });

  it("patches the deletion-cost annotation as a JSON merge patch", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-busy`);
    await r.setDeletionCost!(p, `${p.name}-busy`, 2);

    const patch = api.requestsMatching("PATCH").at(-1)!;
    expect(patch.path).toBe(`/api/v1/namespaces/workers/pods/${p.name}-busy`);
    expect(patch.headers["content-type"]).toBe("application/merge-patch+json");
    expect(patch.body).toEqual({ metadata: { annotations: { "controller.kubernetes.io/pod-deletion-cost": "2" } } });
    expect(api.pod("workers", `${p.name}-busy`)!.metadata.annotations).toMatchObject({ "controller.kubernetes.io/pod-deletion-cost": "2" });
    expect(api.pod("workers", `${p.name}-busy`)!.metadata.labels).toMatchObject({ "berth.dev/pool": p.name });

    await expect(r.setDeletionCost!(p, `${p.name}-missing`, 1)).resolves.toBeUndefined();
    await expect(r.setDeletionCost!(p, `${p.name}-busy`, -1)).rejects.toBeInstanceOf(InvalidDeletionCostError);
  });
});

describe("kubernetes runtime: watch", () => {
  it("starts with a resync and the listed pods, then streams changes from the list's resourceVersion", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-early`);
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));

    expect(summary(await watch.after(0, 2))).toEqual(["resync", `added:${p.name}-early:Pending`]);
    await until(() => api.openWatches > 0);
    const [listRequest, watchRequest] = api.requestsMatching("GET", "/api/v1/namespaces/workers/pods").slice(-2);
    expect(listRequest!.query.get("watch")).toBeNull();
    expect(listRequest!.query.get("labelSelector")).toBe(`berth.dev/pool=${p.name},berth.dev/managed=true`);
    expect(watchRequest!.path).toBe("/api/v1/namespaces/workers/pods");
    expect(watchRequest!.query.get("watch")).toBe("true");
    expect(watchRequest!.query.get("labelSelector")).toBe(`berth.dev/pool=${p.name},berth.dev/managed=true`);
    expect(watchRequest!.query.get("resourceVersion")).toBe(api.pod("workers", `${p.name}-early`)!.metadata.resourceVersion);
    expect(watchRequest!.headers.authorization).toBe("Bearer fake-bearer-token");

    const kubelet = holdingKubelet();
    await r.create(p, `${p.name}-late`);
    api.setPhase("workers", `${p.name}-late`, "Running");
    await r.delete(p, `${p.name}-early`);
    await r.create(pool(), "other-pool-pod");
    expect(summary(await watch.after(2, 3))).toEqual([
      `added:${p.name}-late:Pending`,
      `modified:${p.name}-late:Running`,
      `modified:${p.name}-early:Pending:terminating`,
    ]);
    kubelet.stop(`${p.name}-early`);
    expect(summary(await watch.after(5, 1))).toEqual([`deleted:${p.name}-early:Pending:terminating`]);
    controller.abort();
    await watch.finished;
    expect(watch.seen).toHaveLength(6);
    api.kubelet = null;
  });

  it("re-lists with a resync after 410 Gone, and after a refused watch, then keeps streaming", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-a`);
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await watch.after(0, 2);
    await until(() => api.openWatches > 0);
    const lists = () => api.requestsMatching("GET", "/api/v1/namespaces/workers/pods").filter((q) => !q.query.has("watch")).length;
    const listsBefore = lists();

    // The server ends the call; meanwhile other changes happened and the history was compacted.
    await r.create(p, `${p.name}-b`);
    await watch.after(2, 1);
    api.seed("elsewhere", "unrelated", {});
    api.compact();
    api.closeWatches();
    // Resume from the last version seen → ERROR 410 Gone → relist.
    expect(summary(await watch.after(3, 3))).toEqual(["resync", `added:${p.name}-a:Pending`, `added:${p.name}-b:Pending`]);
    expect(lists() - listsBefore).toBe(1);

    // A watch call refused outright (HTTP 500) → relist as well.
    await until(() => api.openWatches > 0);
    api.failWatches(500);
    api.closeWatches();
    expect(summary(await watch.after(6, 3))).toEqual(["resync", `added:${p.name}-a:Pending`, `added:${p.name}-b:Pending`]);
    expect(lists() - listsBefore).toBe(2);

    await until(() => api.openWatches > 0);
    await r.create(p, `${p.name}-c`);
    expect(summary(await watch.after(9, 1))).toEqual([`added:${p.name}-c:Pending`]);
    controller.abort();
    await watch.finished;
  });

  it("resumes from the last resourceVersion, without re-listing, when the server ends a watch call", async () => {
    const p = pool();
    const r = runtime();
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await until(() => api.openWatches > 0);
    await r.create(p, `${p.name}-seen`);
    expect(summary(await watch.after(0, 2))).toEqual(["resync", `added:${p.name}-seen:Pending`]);
    const seenVersion = api.pod("workers", `${p.name}-seen`)!.metadata.resourceVersion;
    const requestsBefore = api.requests.length;

    api.closeWatches();
    await until(() => api.openWatches > 0);
    const since = api.requests.slice(requestsBefore);
    expect(since).toHaveLength(1);
    expect(since[0]!.query.get("watch")).toBe("true");
    expect(since[0]!.query.get("resourceVersion")).toBe(seenVersion);
    api.setPhase("workers", `${p.name}-seen`, "Running");
    expect(summary(await watch.after(2, 1))).toEqual([`modified:${p.name}-seen:Running`]);
    controller.abort();
    await watch.finished;
  });

  it("marks the end of each full list with `synced`, so a consumer knows its picture is complete", async () => {
    const p = pool();
    const r = runtime();
    await r.create(p, `${p.name}-one`);
    await r.create(p, `${p.name}-two`);
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal), { synced: true });
    expect(summary(await watch.after(0, 4))).toEqual(["resync", `added:${p.name}-one:Pending`, `added:${p.name}-two:Pending`, "synced"]);
    controller.abort();
    await watch.finished;
  });

  it("ends, and closes its connection, when the signal aborts", async () => {
    const p = pool();
    const r = runtime();
    const controller = new AbortController();
    const watch = collect(r.watch(p, controller.signal));
    await until(() => api.openWatches > 0);
    controller.abort();
    await watch.finished;
    await until(() => api.openWatches === 0);
    expect(watch.seen.map((e) => e.type)).toEqual(["resync"]);
  });

  it("ends when the runtime is closed", async () => {
    const p = pool();
    const r = runtime();
    const watch = collect(r.watch(p, new AbortController().signal));
    await until(() => api.openWatches > 0);
    await r.close();
    await watch.finished;
    await until(() => api.openWatches === 0);
  });
});
