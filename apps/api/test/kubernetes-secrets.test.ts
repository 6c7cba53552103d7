// The API's Kubernetes pods against the wire-format fake API: each pool's agent token is minted
// into a Secret Berth creates in the pool's namespace, pods refer to it by secretKeyRef, no pod
// spec Berth sends contains a token, and deleting the pool deletes the Secret and its tokens.
import { createRuntime, type AgentTokenIssuer } from "@berth/core/runtime";
import { secretAgentTokenIssuer, verifyApiToken } from "@berth/core/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeKubeApi } from "../../../packages/core/test/runtime/fake-kube-api.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const kube = new FakeKubeApi();
let api: TestApi;

beforeAll(async () => {
  await kube.start();
  // The issuer needs the API's database, which exists only once the API does.
  const late: { issuer?: AgentTokenIssuer } = {};
  const agentTokens: AgentTokenIssuer = {
    mint: (pool) => late.issuer!.mint(pool),
    isValid: (pool, id) => late.issuer!.isValid(pool, id),
    revokeUnused: (pool, keep, before) => late.issuer!.revokeUnused(pool, keep, before),
  };
  const runtime = createRuntime(
    { type: "kubernetes", namespace: "berth" },
    { apiUrl: "http://berth-api.berth.svc:4000", agentToken: async () => "unused", agentTokens, kubeConfig: kube.kubeConfig("berth") },
  );
  api = await createTestApi({ backend: "pglite", runtime, env: { KUBERNETES_NAMESPACE: "berth", BERTH_POOL_NAMESPACES: "berth,builds" } });
  late.issuer = secretAgentTokenIssuer(api.services.prisma);
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await api?.close();
  await kube.stop();
});

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type PodBody = { metadata: { name: string }; spec: { containers: { name: string; env?: Env[] }[] } };

describe("a kubernetes pool's agent token", () => {
  it("lives in a Secret of the pool's namespace that every pod refers to; no pod spec carries a token; it goes with the pool", async () => {
    const created = await api.gql(`mutation { createPool(input: { name: "ci", runtime: "kubernetes", namespace: "builds", image: "registry.example/agent:1", minPods: 2, maxPods: 2 }) { __typename } }`);
    expect(created.data.createPool.__typename).toBe("MutationCreatePoolSuccess");
    await api.services.pools.reconcileAll();

    const posts = kube.requestsMatching("POST", "/api/v1/namespaces/builds/pods");
    expect(posts).toHaveLength(2);
    const secret = kube.secret("builds", "berth-agent-ci")!;
    expect(secret.metadata.labels).toMatchObject({ "berth.dev/pool": "ci", "berth.dev/managed": "true" });
    const key = secret.metadata.annotations!["berth.dev/agent-token"]!;
    const token = Buffer.from(secret.data![key]!, "base64").toString();

    // The token in the Secret is an agent token limited to this pool.
    const pool = await api.services.prisma.pool.findUniqueOrThrow({ where: { name: "ci" } });
    expect(await verifyApiToken(api.services.prisma, token)).toMatchObject({ role: "agent", poolId: pool.id });

    for (const post of posts) {
      const body = post.body as PodBody;
      expect(JSON.stringify(body)).not.toContain(token);
      expect(JSON.stringify(body)).not.toMatch(/berth_[A-Za-z0-9_-]{20,}/);
      const agent = body.spec.containers.find((c) => c.name === "agent")!;
      const tokenEnv = agent.env!.filter((e) => e.name === "BERTH_AGENT_TOKEN");
      expect(tokenEnv).toEqual([{ name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: "berth-agent-ci", key } } }]);
      expect(body.spec.containers.flatMap((c) => c.env ?? []).filter((e) => e.value !== undefined && e.value === token)).toEqual([]);
    }
    // Both pods share one token: a pass mints no more than one.
    expect(Object.keys(secret.data!)).toEqual([key]);

    const deleted = await api.gql(`mutation { deletePool(name: "ci") { __typename } }`);
    expect(deleted.data.deletePool.__typename).toBe("MutationDeletePoolSuccess");
    expect(kube.secret("builds", "berth-agent-ci")).toBeUndefined();
    expect(await verifyApiToken(api.services.prisma, token)).toBeNull();
  });
});
