// A pool's pod template and namespace are checked before anything is stored: an operator's
// hostile spec gets a typed error naming the field at fault and changes nothing; only an admin
// may relax the pod policy, and that is recorded in the pool's events.
import type { PodRuntime } from "@berth/core/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const CREATE = `mutation($input: CreatePoolInput!) {
  createPool(input: $input) {
    __typename
    ... on MutationCreatePoolSuccess { data { name namespace podPolicyOverride } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}`;
const UPDATE = `mutation($name: String!, $input: UpdatePoolInput!) {
  updatePool(name: $name, input: $input) {
    __typename
    ... on MutationUpdatePoolSuccess { data { name maxPods podTemplate } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}`;
const POOLS = `{ pools { name namespace podTemplate podPolicyOverride maxPods scalingEvents { kind reason } } }`;

const limits = { limits: { cpu: "1", memory: "512Mi" } };
const agent = (extra: Record<string, unknown> = {}) => ({ name: "agent", image: "registry.example/agent:1", resources: limits, ...extra });
const template = (spec: Record<string, unknown>) => ({ metadata: { labels: { team: "ci" } }, spec: { containers: [agent()], ...spec } });

let api: TestApi;
let operator: string;

beforeAll(async () => {
  // A runtime of the kubernetes kind, so that kubernetes pools may be created; it runs nothing.
  const runtime = Object.assign(new FakeRuntime(), { kind: "kubernetes" }) as unknown as PodRuntime;
  api = await createTestApi({ backend: "pglite", runtime, env: { KUBERNETES_NAMESPACE: "berth", BERTH_POOL_NAMESPACES: "berth,builds" } });
  operator = await api.tokenFor("operator");
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await api?.close();
});

const pools = async () => (await api.gql(POOLS)).data.pools as { name: string; namespace: string; podTemplate: unknown; podPolicyOverride: boolean; maxPods: number; scalingEvents: { kind: string; reason: string }[] }[];

describe("an operator's hostile pool spec", () => {
  it.each([
    ["a privileged container", template({ containers: [agent({ securityContext: { privileged: true } })] }), undefined, "podTemplate.spec.containers[0].securityContext.privileged"],
    ["a hostPath volume", template({ volumes: [{ name: "root", hostPath: { path: "/" } }] }), undefined, "podTemplate.spec.volumes[0].hostPath"],
    ["the host's network", template({ hostNetwork: true }), undefined, "podTemplate.spec.hostNetwork"],
    ["another service account", template({ serviceAccountName: "cluster-admin" }), undefined, "podTemplate.spec.serviceAccountName"],
    ["a namespace outside BERTH_POOL_NAMESPACES", template({}), "kube-system", "namespace"],
    ["a template without the agent container", template({ containers: [{ name: "worker", image: "w:1", resources: limits }] }), undefined, "podTemplate.spec.containers"],
  ])("with %s is refused with a ValidationError naming the field, and nothing is stored", async (_what, podTemplate, namespace, field) => {
    const before = await pools();
    const name = `hostile-${before.length}`;
    const result = await api.gql(CREATE, { input: { name, runtime: "kubernetes", namespace, podTemplate } }, operator);
    expect(result.errors).toBeUndefined();
    expect(result.data.createPool).toMatchObject({ __typename: "ValidationError", field });
    expect(await pools()).toEqual(before);

    // The same spec as an update of a compliant pool: refused, the pool as it was.
    const good = await api.gql(CREATE, { input: { name: `${name}-ok`, runtime: "kubernetes", podTemplate: template({}) } }, operator);
    expect(good.data.createPool.__typename).toBe("MutationCreatePoolSuccess");
    const stored = await pools();
    const update = await api.gql(UPDATE, { name: `${name}-ok`, input: { namespace, podTemplate } }, operator);
    expect(update.data.updatePool).toMatchObject({ __typename: "ValidationError", field });
    expect(await pools()).toEqual(stored);
  });

  it("may not set podPolicyOverride: ForbiddenError, nothing stored", async () => {
    const before = await pools();
    const result = await api.gql(CREATE, { input: { name: "sneaky", runtime: "kubernetes", podTemplate: template({ hostPID: true }), podPolicyOverride: true } }, operator);
    expect(result.data.createPool).toMatchObject({ __typename: "ForbiddenError", message: "only an admin may set podPolicyOverride (pool sneaky)" });
    expect(await pools()).toEqual(before);
  });
});

describe("an admin", () => {
  it("is held to the pod policy too unless the pool sets podPolicyOverride", async () => {
    const result = await api.gql(CREATE, { input: { name: "admin-plain", runtime: "kubernetes", podTemplate: template({ hostNetwork: true }) } });
    expect(result.data.createPool).toMatchObject({ __typename: "ValidationError", field: "podTemplate.spec.hostNetwork" });
  });

  it("relaxes the policy with podPolicyOverride, recorded as a policy_override event naming what it lets through", async () => {
    const hostile = template({ hostNetwork: true, containers: [agent({ securityContext: { privileged: true } })] });
    const result = await api.gql(CREATE, { input: { name: "node-tools", runtime: "kubernetes", podTemplate: hostile, podPolicyOverride: true } });
    expect(result.data.createPool).toMatchObject({ __typename: "MutationCreatePoolSuccess", data: { name: "node-tools", namespace: "berth", podPolicyOverride: true } });
    const pool = (await pools()).find((p) => p.name === "node-tools")!;
    expect(pool.scalingEvents).toEqual([
      { kind: "policy_override", reason: "an admin's podPolicyOverride lets the pod template break the pod policy at podTemplate.spec.hostNetwork, podTemplate.spec.containers[0].securityContext.privileged" },
    ]);

    // An operator may still scale it, but not write a template of their own under the override.
    const scaled = await api.gql(UPDATE, { name: "node-tools", input: { maxPods: 3 } }, operator);
    expect(scaled.data.updatePool).toMatchObject({ __typename: "MutationUpdatePoolSuccess", data: { maxPods: 3 } });
    const rewritten = await api.gql(UPDATE, { name: "node-tools", input: { podTemplate: template({ hostPID: true }) } }, operator);
    expect(rewritten.data.updatePool).toMatchObject({ __typename: "ValidationError", field: "podTemplate.spec.hostPID" });
    const after = (await pools()).find((p) => p.name === "node-tools")!;
    expect(after.podTemplate).toEqual(hostile);
    expect(after.scalingEvents).toHaveLength(1);
  });
});

describe("pool namespaces", () => {
  it("default to KUBERNETES_NAMESPACE and may be any of BERTH_POOL_NAMESPACES", async () => {
    const plain = await api.gql(CREATE, { input: { name: "in-default", runtime: "kubernetes", image: "agent:1" } }, operator);
    expect(plain.data.createPool).toMatchObject({ data: { namespace: "berth" } });
    const builds = await api.gql(CREATE, { input: { name: "in-builds", runtime: "kubernetes", image: "agent:1", namespace: "builds" } }, operator);
    expect(builds.data.createPool).toMatchObject({ data: { namespace: "builds" } });
  });
});
