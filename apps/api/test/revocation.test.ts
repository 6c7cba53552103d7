// Revoking a token ends its open subscriptions, SSE and WebSocket, within a second, on every
// replica; a periodic re-verification ends them even when the revocation event is lost.
import { randomBytes } from "node:crypto";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { postgresAvailable, redisAvailable } from "../../../packages/core/test/support/services.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op, readSse, type SseEvent } from "./support/contract.js";
import { startReplicaPair, type ApiProcess, type ReplicaPair } from "./support/processes.js";

const POOL_CHANGED = op("PoolChanged");

/** Reads an SSE stream in the background; `ended` resolves with the time it ended and the errors it carried. */
function watchSse(response: Response) {
  const frames: SseEvent[] = [];
  const ended = (async () => {
    for await (const frame of readSse(response)) frames.push(frame);
    return Date.now();
  })();
  return { frames, ended };
}

const codesIn = (frames: SseEvent[]) => frames.flatMap((f) => ((f.data as { errors?: { extensions?: { code?: string } }[] })?.errors ?? []).map((e) => e.extensions?.code));

describe.skipIf(!postgresAvailable || !redisAvailable)("revoking a token across two replicas", () => {
  const admin = `revocation-admin-${randomBytes(12).toString("hex")}`;
  let a: ApiProcess;
  let b: ApiProcess;
  let pair: ReplicaPair | undefined;

  beforeAll(async () => {
    pair = await startReplicaPair("revocation", admin, {
      // The periodic check is far off: what ends the streams within a second is the event.
      TOKEN_RECHECK_SECONDS: "600",
    });
    ({ a, b } = pair);
  }, 120_000);
  afterAll(async () => {
    await pair?.stop();
  });

  const gql = async (replica: ApiProcess, query: string, variables: Record<string, unknown>, token = admin) => {
    const response = await fetch(`${replica.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data: Record<string, { __typename: string; data: { id: string; token: string } }>; errors?: unknown };
  };

  it("ends its SSE subscriptions on replica A and its WebSocket subscriptions on replica B within a second", async () => {
    const created = await gql(a, "mutation($n: String!) { createApiToken(name: $n, role: \"viewer\") { __typename ... on MutationCreateApiTokenSuccess { data { id token } } } }", { n: "dashboard" });
    const { id, token } = created.data.createApiToken!.data;

    const sse = (replica: ApiProcess) =>
      fetch(`${replica.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: POOL_CHANGED }),
      });
    const onA = watchSse(await sse(a));
    const onB = watchSse(await sse(b));
    const ws = createClient({ url: `${b.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    const wsEnded = new Promise<{ at: number; how: string }>((resolve) => {
      ws.subscribe({ query: POOL_CHANGED }, {
        next: () => {},
        error: (error) => {
          const closed = error as { code?: number; reason?: string };
          resolve({ at: Date.now(), how: closed.code ? `closed ${closed.code} ${closed.reason}` : JSON.stringify(error) });
        },
        complete: () => resolve({ at: Date.now(), how: "complete" }),
      });
    });
    // Both replicas' subscriptions are set up (and B's Redis subscription confirmed).
    await new Promise((r) => setTimeout(r, 1_000));

    const revokedAt = Date.now();
    const revoked = await gql(a, "mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }", { id });
    expect(revoked.data.revokeApiToken!.__typename).toBe("MutationRevokeApiTokenSuccess");

    const limit = (ms: number) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not ended within ${ms} ms`)), ms));
    const [endA, endB, endWs] = await Promise.race([Promise.all([onA.ended, onB.ended, wsEnded]), limit(5_000)]);
    console.log(`after revocation: SSE on A ended in ${endA - revokedAt} ms, SSE on B in ${endB - revokedAt} ms, WebSocket on B in ${endWs.at - revokedAt} ms`);
    expect(endA - revokedAt).toBeLessThan(1_000);
    expect(endB - revokedAt).toBeLessThan(1_000);
    expect(endWs.at - revokedAt).toBeLessThan(1_000);
    expect(codesIn(onA.frames)).toContain("TOKEN_REVOKED");
    expect(codesIn(onB.frames)).toContain("TOKEN_REVOKED");
    expect(endWs.how).toMatch(/TOKEN_REVOKED|revoked/);
    await ws.dispose();
  });
});

describe("the periodic re-verification", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { TOKEN_RECHECK_SECONDS: "1" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  it("ends a subscription whose token was revoked without any event (written straight to the database)", async () => {
    const token = await api.tokenFor("viewer", { name: "quiet" });
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: POOL_CHANGED }),
    });
    const watched = watchSse(response);
    await new Promise((r) => setTimeout(r, 200));
    expect(api.services.subscriptions.count()).toBe(1);
    const revokedAt = Date.now();
    await api.services.prisma.apiToken.updateMany({ where: { name: "quiet" }, data: { revokedAt: new Date() } });
    const endedAt = await Promise.race([watched.ended, new Promise<number>((_, reject) => setTimeout(() => reject(new Error("still open after 5 s")), 5_000))]);
    expect(endedAt - revokedAt).toBeLessThan(2_500);
    expect(codesIn(watched.frames)).toContain("TOKEN_REVOKED");
    expect(api.services.subscriptions.count()).toBe(0);
  });
});
