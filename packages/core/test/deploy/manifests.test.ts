// The Kubernetes manifests in deploy/kubernetes: every overlay renders with kubectl's kustomize,
// every object is valid for the Kubernetes API (kubernetes-models' OpenAPI validation, and no
// field the Kubernetes client's own models do not know), the Role grants exactly what the
// kubernetes runtime calls (recorded by the wire-format fake while the runtime does all it
// does), and the configuration each overlay gives is one Berth starts with.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";
import { getSerializationType } from "@kubernetes/client-node/dist/util.js";
import yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { describeVariables, loadConfig } from "../../src/cluster/index.js";
import { createKubernetesRuntime } from "../../src/runtime/kubernetes.js";
import type { PodRuntime, RuntimePoolSpec } from "../../src/runtime/types.js";
import { FakeKubeApi, type RecordedRequest } from "../runtime/fake-kube-api.js";
import { FakeTokenIssuer } from "../runtime/fake-token-issuer.js";
import { collect, until } from "../runtime/wait.js";

const KUBECTL = "/usr/bin/kubectl";
const KUSTOMIZE_DIR = fileURLToPath(new URL("../../../../deploy/kubernetes/", import.meta.url));
const OVERLAYS = ["trial", "production"] as const;

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };
type Container = { name: string; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: unknown; fieldRef?: unknown } }[]; [key: string]: unknown };
type Deployment = K8sObject & { spec: { replicas: number; template: { spec: { containers: Container[]; securityContext: Record<string, unknown>; terminationGracePeriodSeconds: number; [key: string]: unknown } } } };

/** kubectl 1.27+ embeds kustomize v5; Debian's kubernetes-client (1.20, kustomize 2.0) cannot render `resources: [../../base]`. */
function requireKubectl(): void {
  const fix = `install kubectl 1.27 or later at ${KUBECTL} (these machines have 1.32 from the machine image); Debian's kubernetes-client package is too old`;
  if (!existsSync(KUBECTL)) throw new Error(`${KUBECTL} is missing: ${fix}`);
  const version = JSON.parse(execFileSync(KUBECTL, ["version", "--client", "-o", "json"], { encoding: "utf8" })) as { clientVersion: { major: string; minor: string } };
  const minor = Number.parseInt(version.clientVersion.minor, 10);
  if (version.clientVersion.major !== "1" || !(minor >= 27)) throw new Error(`${KUBECTL} is ${version.clientVersion.major}.${version.clientVersion.minor}: ${fix}`);
}

const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  requireKubectl();
  for (const overlay of OVERLAYS) {
    const text = execFileSync(KUBECTL, ["kustomize", `${KUSTOMIZE_DIR}overlays/${overlay}`], { encoding: "utf8" });
    rendered.set(overlay, yaml.loadAll(text) as K8sObject[]);
  }
});

const objects = (overlay: string) => rendered.get(overlay)!;
const ofKind = <T extends K8sObject = K8sObject>(overlay: string, kind: string) => objects(overlay).filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject = K8sObject>(overlay: string, kind: string, name: string) => ofKind<T>(overlay, kind).find((o) => o.metadata.name === name)!;

/** What kubernetes-models' validate() finds wrong with `object` (types, required fields, formats), or null. */
async function schemaErrors(object: K8sObject): Promise<string | null> {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  const module = (await import(/* @vite-ignore */ `kubernetes-models/${group ? `${group}/` : ""}${version}/${object.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  try {
    new module[object.kind]!(object).validate();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Fields of `object` that the Kubernetes client's models do not know (a typo the API server would drop or refuse). */
function unknownFields(object: K8sObject): string[] {
  const type = getSerializationType(object.apiVersion, object.kind);
  const known = JSON.parse(JSON.stringify(ObjectSerializer.serialize(ObjectSerializer.deserialize(object, type), type))) as unknown;
  const lost: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (Array.isArray(a)) return a.forEach((item, i) => walk(item, (b as unknown[] | undefined)?.[i], `${path}[${i}]`));
    if (typeof a !== "object" || a === null) return;
    for (const [key, value] of Object.entries(a)) {
      const other = (b as Record<string, unknown> | undefined)?.[key];
      if (other === undefined && value !== undefined && value !== null) lost.push(`${path}.${key}`);
      else walk(value, other, `${path}.${key}`);
    }
  };
  walk(object, known, object.kind);
  return lost;
}

describe.each(OVERLAYS)("the %s overlay", (overlay) => {
  it("renders the objects of an installation, all in Berth's namespaces, nothing cluster-wide but namespaces", () => {
    const kinds = objects(overlay).map((o) => o.kind);
    for (const kind of ["Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "Ingress"]) expect(kinds).toContain(kind);
    expect(kinds.filter((k) => k.startsWith("Cluster"))).toEqual([]);
    for (const o of objects(overlay)) if (o.kind !== "Namespace") expect([`berth`, `berth-pools`]).toContain(o.metadata.namespace);
  });

  it("is valid for the Kubernetes API: OpenAPI schema, and no unknown field", async () => {
    for (const object of objects(overlay)) {
      expect({ object: `${object.kind}/${object.metadata.name}`, error: await schemaErrors(object) }).toEqual({ object: `${object.kind}/${object.metadata.name}`, error: null });
      expect(unknownFields(object)).toEqual([]);
    }
  });

  it("runs the API and the console with probes, requests and limits, restricted security contexts and a grace period covering shutdown", () => {
    const api = named<Deployment>(overlay, "Deployment", "berth-api");
    const [container] = api.spec.template.spec.containers;
    expect(container).toMatchObject({ livenessProbe: { httpGet: { path: "/healthz" } }, readinessProbe: { httpGet: { path: "/readyz" } } });
    // 10 s of request draining after SIGTERM (apps/api/src/server.ts), the preStop pause before it, and time to release locks.
    const preStop = (container as { lifecycle?: { preStop?: { sleep?: { seconds: number } } } }).lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + 10 + 20);
    for (const deployment of ofKind<Deployment>(overlay, "Deployment")) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      for (const c of pod.containers) {
        expect(c).toMatchObject({ resources: { requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { cpu: expect.any(String), memory: expect.any(String) } } });
        expect(c).toMatchObject({ securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } });
        // Secrets only by reference: no literal value for anything secret.
        for (const e of c.env ?? []) if (/TOKEN|SECRET|PASSWORD|KEY|DATABASE_URL|REDIS_URL/.test(e.name)) expect({ [e.name]: e.valueFrom?.secretKeyRef }).toEqual({ [e.name]: expect.anything() });
      }
      // Only the API talks to the Kubernetes API.
      expect(pod.automountServiceAccountToken).toBe(deployment.metadata.name === "berth-api");
    }
    const configMap = named(overlay, "ConfigMap", "berth") as K8sObject & { data: Record<string, string> };
    expect(JSON.stringify(configMap.data)).not.toMatch(/berth_[A-Za-z0-9_-]{20,}/);
  });

  it("configures only variables Berth reads, with values it starts with", () => {
    const data = (named(overlay, "ConfigMap", "berth") as K8sObject & { data: Record<string, string> }).data;
    const known = new Set(describeVariables().map((v) => v.name));
    expect(Object.keys(data).filter((k) => !known.has(k))).toEqual([]);
    const api = named<Deployment>(overlay, "Deployment", "berth-api");
    const env: Record<string, string> = { ...data, KUBERNETES_SERVICE_HOST: "10.96.0.1", HOSTNAME: "berth-api-7d9f-x2" };
    for (const e of api.spec.template.spec.containers[0]!.env ?? []) {
      if (e.valueFrom?.fieldRef) env[e.name] = e.name === "KUBERNETES_NAMESPACE" ? "berth" : "berth-api-7d9f-x2";
      if (e.valueFrom?.secretKeyRef) env[e.name] = { DATABASE_URL: "postgresql://berth@postgres.berth.svc/berth", REDIS_URL: "redis://redis.berth.svc:6379" }[e.name] ?? "a-secret-of-at-least-16-characters";
    }
    const config = loadConfig(env, "/app/apps/api");
    expect(config.runtime).toMatchObject({ type: "kubernetes", namespace: "berth", namespaces: data.BERTH_POOL_NAMESPACES!.split(",") });
    expect(config.api).toMatchObject({ host: "0.0.0.0", url: "http://berth-api.berth.svc:4000" });
    if (overlay === "trial") {
      expect(config).toMatchObject({ cluster: { clustered: false }, database: { kind: "pglite", dataDir: "/var/lib/berth/db" }, storage: { type: "local" } });
      expect(api.spec.replicas).toBe(1);
    } else {
      expect(config).toMatchObject({ cluster: { clustered: true, totalReplicas: api.spec.replicas }, database: { kind: "postgres" }, storage: { type: "minio" } });
      expect(api.spec.replicas).toBeGreaterThan(1);
    }
  });

  it("binds Berth's Role to its service account in every namespace pools may use", () => {
    const data = (named(overlay, "ConfigMap", "berth") as K8sObject & { data: Record<string, string> }).data;
    for (const namespace of data.BERTH_POOL_NAMESPACES!.split(",")) {
      const role = ofKind(overlay, "Role").find((r) => r.metadata.namespace === namespace);
      const binding = ofKind(overlay, "RoleBinding").find((b) => b.metadata.namespace === namespace) as K8sObject & { roleRef: unknown; subjects: unknown };
      expect(role, `a Role in ${namespace}`).toBeDefined();
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role!.metadata.name });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "berth", namespace: "berth" }]);
    }
    expect((named<Deployment>(overlay, "Deployment", "berth-api").spec.template.spec as { serviceAccountName?: string }).serviceAccountName).toBe("berth");
  });
});

/** resource → verbs, from requests as the Kubernetes API server would authorise them. */
function verbsOf(requests: RecordedRequest[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of requests) {
    const match = /^\/api\/v1\/namespaces\/[^/]+\/([^/]+)(\/[^/]+)?$/.exec(r.path);
    if (!match) throw new Error(`the runtime called ${r.method} ${r.path}, which this test cannot map to a resource`);
    const [, resource, item] = match;
    const watch = r.query.get("watch") === "true" || r.query.get("watch") === "1";
    const verb = { GET: item ? "get" : watch ? "watch" : "list", POST: "create", PUT: "update", PATCH: "patch", DELETE: item ? "delete" : "deletecollection" }[r.method];
    (out[resource!] ??= new Set()).add(verb!);
  }
  return Object.fromEntries(Object.entries(out).map(([resource, verbs]) => [resource, [...verbs].sort()]));
}

describe("Berth's Role", () => {
  it("grants exactly the verbs and resources the kubernetes runtime uses, in every overlay and pool namespace", async () => {
    const api = await new FakeKubeApi().start();
    const runtime = createKubernetesRuntime({ kubeConfig: api.kubeConfig(), apiUrl: "http://berth-api.berth.svc:4000", agentTokens: new FakeTokenIssuer(), watchBackoff: { initialMs: 10, maxMs: 40 } });
    const pool: RuntimePoolSpec = { name: "rbac", namespace: "berth", image: "agent:1", podTemplate: null, slotsPerPod: 2 };
    // Every operation of the runtime, so that a new one cannot call the API unnoticed.
    const exercised = ["kind", "scope", "list", "listAll", "create", "delete", "setDeletionCost", "pruneAgentTokens", "releasePool", "watch", "close"];
    expect(Object.keys(runtime).sort()).toEqual([...exercised].sort());
    try {
      const watch = collect((runtime as PodRuntime).watch(pool, AbortSignal.timeout(30_000)));
      await until(() => api.openWatches > 0);
      await runtime.create(pool, "rbac-a");
      await runtime.create(pool, "rbac-a"); // the name taken: read back
      await runtime.list(pool);
      await runtime.listAll();
      await runtime.setDeletionCost!(pool, "rbac-a", 1);
      await runtime.delete(pool, "rbac-a");
      await runtime.pruneAgentTokens!(pool);
      await runtime.releasePool!(pool);
      await watch.after(0, 2);
    } finally {
      await runtime.close();
      await api.stop();
    }
    const used = verbsOf(api.requests);
    expect(used.pods).toEqual(["create", "delete", "get", "list", "patch", "watch"]);

    for (const overlay of OVERLAYS) {
      const roles = ofKind(overlay, "Role") as (K8sObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] })[];
      expect(roles.length).toBeGreaterThan(0);
      for (const role of roles) {
        const granted: Record<string, string[]> = {};
        for (const rule of role.rules) {
          expect(rule.apiGroups).toEqual([""]);
          expect(rule.resourceNames).toBeUndefined();
          for (const resource of rule.resources) granted[resource] = [...new Set([...(granted[resource] ?? []), ...rule.verbs])].sort();
        }
        expect({ role: `${overlay}: ${role.metadata.namespace}/${role.metadata.name}`, granted }).toEqual({ role: `${overlay}: ${role.metadata.namespace}/${role.metadata.name}`, granted: used });
      }
    }
    expect(isDeepStrictEqual(Object.keys(used).sort(), ["pods", "secrets"])).toBe(true);
  });
});

describe("the images", () => {
  const read = (path: string) => readFileSync(new URL(`../../../../${path}`, import.meta.url), "utf8");

  it("start the API with the command of apps/api's start:dist, and run as a numeric non-root user", () => {
    const server = read("deploy/Dockerfile");
    const startDist = (JSON.parse(read("apps/api/package.json")) as { scripts: Record<string, string> }).scripts["start:dist"]!;
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(server)![1]!) as string[];
    // start:dist runs in apps/api: so does the image's command.
    expect([...server.matchAll(/^WORKDIR (\S+)$/gm)].at(-1)![1]).toBe("/app/apps/api");
    expect(cmd.join(" ")).toBe(startDist);
    for (const dockerfile of [server, read("deploy/Dockerfile.agent")]) {
      const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
      expect(users.at(-1)).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
      for (const [, image] of dockerfile.matchAll(/^FROM (\S+)/gm)) expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim$|^[a-z-]+$/);
    }
  });
});
