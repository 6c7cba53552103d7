// The per-pod mutations through the API: operators act, viewers and agents are refused, and a
// refusal from the domain (a busy pod, a pod not Lost) comes back as a typed error in words,
// with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable } from "../../../packages/core/test/support/services.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const ACT = (name: string) => `mutation($pool: String!, $pod: String!) {
  ${name}(pool: $pool, pod: $pod) {
    __typename
    ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { pod phase } }
    ... on Error { message }
  }
}`;

describe.skipIf(!postgresAvailable)("pod actions through the API", () => {
  let api: TestApi;
  let pods: string[];

  beforeAll(async () => {
    api = await createTestApi({ backend: "postgres" });
    await api.services.pools.createPool({ name: "acted", minPods: 3, maxPods: 3, autoscale: false });
    await api.services.pools.reconcilePool(await api.services.prisma.pool.findUniqueOrThrow({ where: { name: "acted" } }));
    pods = (await api.services.prisma.pod.findMany({ orderBy: { name: "asc" } })).map((p) => p.name);
    expect(pods).toHaveLength(3);
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const phase = async (pod: string) => (await api.services.prisma.pod.findUnique({ where: { name: pod } }))?.phase ?? null;

  it("a viewer and an agent may not drain, delete or clear a pod", async () => {
    const viewer = await api.tokenFor("viewer");
    const agent = await api.tokenFor("agent", { pool: "acted" });
    for (const name of ["drainPod", "deletePod", "clearLostPod"]) {
      for (const token of [viewer, agent]) {
        const result = await api.gql(ACT(name), { pool: "acted", pod: pods[0] }, token);
        expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      }
    }
    expect(await phase(pods[0]!)).toBe("Starting");
  });

  it("deleting a busy pod is a ConflictError that says why; the pod stays", async () => {
    // A plan waiting for approval holds slot 0 of the first pod.
    const pool = await api.services.prisma.pool.findUniqueOrThrow({ where: { name: "acted" } });
    const task = await api.services.prisma.task.create({ data: { poolId: pool.id, type: "plan", status: "apply_pending", podName: pods[0], slotIndex: 0 } });
    await api.services.prisma.slot.updateMany({
      where: { pod: { name: pods[0] }, index: 0 },
      data: { state: "reserved", taskId: task.id, reservedUntil: new Date(Date.now() + 3_600_000) },
    });
    const result = await api.gql(ACT("deletePod"), { pool: "acted", pod: pods[0] });
    expect(result.data.deletePod).toMatchObject({ __typename: "ConflictError", message: expect.stringContaining("running or reserved slot") });
    expect(await phase(pods[0]!)).toBe("Starting");
  });

  it("clearing a pod that is not Lost is refused in words; an operator deletes an idle pod and drains another", async () => {
    const operator = await api.tokenFor("operator");
    const refused = await api.gql(ACT("clearLostPod"), { pool: "acted", pod: pods[1] }, operator);
    expect(refused.data.clearLostPod).toMatchObject({ __typename: "ConflictError", message: expect.stringContaining("only Lost pods are cleared") });

    const deleted = await api.gql(ACT("deletePod"), { pool: "acted", pod: pods[1] }, operator);
    expect(deleted.data.deletePod).toEqual({ __typename: "MutationDeletePodSuccess", data: { pod: pods[1], phase: "Terminating" } });
    expect(await phase(pods[1]!)).toBe("Terminating");

    // The busy pod drained: it stays, Draining, until its slot is idle.
    const drained = await api.gql(ACT("drainPod"), { pool: "acted", pod: pods[0] }, operator);
    expect(drained.data.drainPod).toEqual({ __typename: "MutationDrainPodSuccess", data: { pod: pods[0], phase: "Draining" } });

    const missing = await api.gql(ACT("drainPod"), { pool: "acted", pod: "acted-nope" }, operator);
    expect(missing.data.drainPod).toMatchObject({ __typename: "NotFoundError" });
  });

  it("an operator clears a Lost pod", async () => {
    await api.services.prisma.pod.update({ where: { name: pods[2] }, data: { phase: "Lost" } });
    const cleared = await api.gql(ACT("clearLostPod"), { pool: "acted", pod: pods[2] }, await api.tokenFor("operator", { name: "op-2" }));
    expect(cleared.data.clearLostPod).toEqual({ __typename: "MutationClearLostPodSuccess", data: { pod: pods[2], phase: "Cleared" } });
    expect(await phase(pods[2]!)).toBeNull();
  });
});
