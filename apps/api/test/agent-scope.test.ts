// Agent tokens act for the pods of one pool, and nothing else.
import { createApiToken, AgentTokenPoolRequiredError } from "@berth/core/tokens";
import { hashToken } from "../../../packages/core/src/tokens/secret.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op, readSse, type SseEvent } from "./support/contract.js";

describe("agent tokens are bound to one pool", () => {
  let api: TestApi;
  const runtime = new FakeRuntime();
  let podOfA: string;
  let podOfB: string;
  let tokenOfA: string;
  let poolless: string;

  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", runtime });
    for (const name of ["pool-a", "pool-b"]) {
      await api.services.pools.createPool({ name, minPods: 0, maxPods: 1, autoscale: false });
      await api.services.pools.scalePool(name, 1);
    }
    [podOfA, podOfB] = [...runtime.pods.keys()].sort() as [string, string];
    tokenOfA = await api.tokenFor("agent", { pool: "pool-a" });
    // A token from before agent tokens needed a pool: written as it was stored then.
    poolless = "berth_poolless-agent-token-from-before-0000000";
    await api.services.prisma.apiToken.create({ data: { name: "old agent", role: "agent", tokenHash: hashToken(poolless), prefix: poolless.slice(0, 12) } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const CREATE = `mutation($name: String!, $role: String!, $pool: String) {
    createApiToken(name: $name, role: $role, pool: $pool) { __typename ... on ValidationError { field message } }
  }`;

  it("creating an agent token without a pool is a ValidationError on `pool`, and nothing is stored", async () => {
    const before = await api.services.prisma.apiToken.count();
    const res = await api.gql(CREATE, { name: "anywhere", role: "agent" });
    expect(res.data.createApiToken).toEqual({ __typename: "ValidationError", field: "pool", message: "an agent token must be limited to a pool: give pool" });
    expect(await api.services.prisma.apiToken.count()).toBe(before);
    await expect(createApiToken(api.services.prisma, { name: "x", role: "agent" })).rejects.toBeInstanceOf(AgentTokenPoolRequiredError);
    expect(await api.services.prisma.apiToken.count()).toBe(before);
  });

  it("a pool-less agent token from before cannot act for any pod: ForbiddenError, and the pod is untouched", async () => {
    for (const pod of [podOfA, podOfB]) {
      const before = await api.services.prisma.pod.findUniqueOrThrow({ where: { name: pod } });
      for (const [name, field] of [["RegisterAgent", "registerAgent"], ["Heartbeat", "heartbeat"]] as const) {
        const res = await api.gql(op(name), { pod }, poolless);
        expect(res.data[field], `${name} ${pod}`).toMatchObject({ __typename: "ForbiddenError", message: expect.stringContaining("not limited to a pool") });
      }
      const after = await api.services.prisma.pod.findUniqueOrThrow({ where: { name: pod } });
      expect(after.lastHeartbeatAt).toEqual(before.lastHeartbeatAt);
      expect(after.phase).toBe(before.phase);
    }
  });

  const firstEvent = async (pod: string, token: string): Promise<SseEvent> => {
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: op("Assignments"), variables: { pod } }),
    });
    const events = readSse(response);
    try {
      for await (const event of events) if (event.event === "next") return event;
      throw new Error("the stream ended without an event");
    } finally {
      await events.return(undefined);
    }
  };

  it("assignments of another pool's pod answer FORBIDDEN, not an unexpected error", async () => {
    for (const [pod, token] of [[podOfB, tokenOfA], [podOfA, poolless]] as const) {
      const event = await firstEvent(pod, token);
      const errors = (event.data as { errors?: { message: string; extensions?: { code?: string } }[] }).errors;
      expect(errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      expect(errors?.[0]?.message).not.toBe("Unexpected error.");
    }
  });
});
