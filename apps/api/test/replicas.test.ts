// Two API processes on loopback sharing PostgreSQL and Redis: a subscriber on one replica sees,
// within a second, the slot changes caused by mutations sent to the other.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, redisAvailable } from "../../../packages/core/test/support/services.js";
import { contractOperation as op, nextData, readSse } from "./support/contract.js";
import { startReplicaPair, type ApiProcess, type ReplicaPair } from "./support/processes.js";

describe.skipIf(!postgresAvailable || !redisAvailable)("two replicas", () => {
  const token = `replica-test-${randomBytes(12).toString("hex")}`;
  let a: ApiProcess;
  let b: ApiProcess;
  let pair: ReplicaPair | undefined;

  beforeAll(async () => {
    pair = await startReplicaPair("replicas", token, { RECONCILE_SCHEDULE: "*/2 * * * * *" });
    ({ a, b } = pair);
  }, 120_000);
  afterAll(async () => {
    await pair?.stop();
  });

  const gql = async (replica: ApiProcess, name: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${replica.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: op(name), variables }),
    });
    const body = (await response.json()) as { data: Record<string, { __typename?: string; data?: Record<string, unknown> }>; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  it("a subscriber on replica B receives, within a second, the slot changes of mutations sent to replica A", async () => {
    const created = await gql(a, "CreatePool", { input: { name: "shared", minPods: 1, maxPods: 1, autoscale: false } });
    expect(created.createPool!.__typename).toBe("MutationCreatePoolSuccess");
    // The reconcile job (on whichever replica holds its lock) starts a local pod whose agent registers.
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      const pool = (await gql(b, "Pool", { name: "shared" })).pool as unknown as { pods: { phase: string }[] };
      ready = pool.pods.some((p) => p.phase === "Ready");
      if (!ready) await new Promise((r) => setTimeout(r, 300));
    }
    expect(ready).toBe(true);

    const response = await fetch(`${b.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: op("SlotChanged"), variables: { pool: "shared" } }),
    });
    const events = readSse(response);
    // The SSE response starts once the subscription is set up; give Redis a moment to confirm it.
    await new Promise((r) => setTimeout(r, 300));
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const sentAt = Date.now();
      const submitted = await gql(a, "SubmitTask", { input: { pool: "shared", type: "plan", payload: { durationMs: 200 } } });
      const id = (submitted.submitTask!.data as { id: string }).id;
      for (;;) {
        const change = (await nextData<{ slotChanged: { taskId: string | null; state: string; pool: string } }>(events, 1000)).slotChanged;
        expect(change.pool).toBe("shared");
        if (change.taskId === id && change.state === "running") break;
      }
      latencies.push(Date.now() - sentAt);
      // The agent finishes it: the slot goes idle again, seen on B as well.
      for (;;) {
        const change = (await nextData<{ slotChanged: { taskId: string | null; state: string } }>(events, 5000)).slotChanged;
        if (change.state === "idle") break;
      }
    }
    await events.return(undefined);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    console.info(`replicas: mutation on A to event on B in ${latencies.join(", ")} ms`);
  }, 120_000);

  it("each fire time of the reconcile job ran on exactly one of the two replicas", async () => {
    const runs = (await gql(a, "CronRuns", { job: "reconcile-pools", first: 200 })).cronRuns as unknown as { replica: string; scheduledAt: string }[];
    expect(runs.length).toBeGreaterThan(0);
    expect(new Set(runs.map((r) => r.scheduledAt)).size).toBe(runs.length);
    for (const r of runs) expect(["replica-a", "replica-b"]).toContain(r.replica);
  });
});
