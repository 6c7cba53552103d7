// Concurrency keys and the capacity pool options through GraphQL: the new arguments and fields,
// typed errors naming the field with nothing stored, and the pending-by-reason gauge in /metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const metricsToken = "metrics-secret-0123456789abcdef";

const SUBMIT = `mutation($input: SubmitTaskInput!) { submitTask(input: $input) {
  __typename
  ... on MutationSubmitTaskSuccess { data { id status concurrencyKey keyBlocked failureReason } }
  ... on ValidationError { field message } } }`;
const CREATE = `mutation($input: CreatePoolInput!) { createPool(input: $input) {
  __typename
  ... on MutationCreatePoolSuccess { data { name maxReservedFraction maxTasksPerPod } }
  ... on ValidationError { field message } } }`;
const POOL = `query { pool(name: "web") { pendingTasks pendingByReason { noSlot keyBlocked reservedCap } reservedSlots reservedSlotSeconds maxReservedFraction maxTasksPerPod } }`;

describe("concurrency keys and capacity options through GraphQL", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", env: { METRICS_TOKEN: metricsToken } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const data = async (document: string, variables: Record<string, unknown> = {}) => {
    const result = await api.gql(document, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data;
  };

  it("a bad maxReservedFraction or maxTasksPerPod is a ValidationError naming the field, and no pool is created", async () => {
    for (const [field, value] of [["maxReservedFraction", 1.5], ["maxReservedFraction", -1], ["maxTasksPerPod", 0]] as const) {
      expect((await data(CREATE, { input: { name: "web", [field]: value } })).createPool).toMatchObject({ __typename: "ValidationError", field });
    }
    expect((await data(`query { pools { name } }`)).pools).toEqual([]);
    const created = await data(CREATE, { input: { name: "web", minPods: 0, maxPods: 2, autoscale: false, maxReservedFraction: 0.5, maxTasksPerPod: 3 } });
    expect(created.createPool).toEqual({ __typename: "MutationCreatePoolSuccess", data: { name: "web", maxReservedFraction: 0.5, maxTasksPerPod: 3 } });
  });

  it("submitTask takes a concurrencyKey and supersede; the pool says why its tasks wait", async () => {
    const bad = await data(SUBMIT, { input: { pool: "web", type: "plan", concurrencyKey: "has space" } });
    expect(bad.submitTask).toMatchObject({ __typename: "ValidationError", field: "concurrencyKey" });
    const noKey = await data(SUBMIT, { input: { pool: "web", type: "plan", supersede: true } });
    expect(noKey.submitTask).toMatchObject({ __typename: "ValidationError", field: "supersede" });
    expect((await data(`query { tasks(pool: "web") { id } }`)).tasks).toEqual([]);

    // No pods: the first task of the key waits for a slot, the second for the key.
    const first = (await data(SUBMIT, { input: { pool: "web", type: "plan", concurrencyKey: "ws-prod" } })).submitTask.data;
    const second = (await data(SUBMIT, { input: { pool: "web", type: "plan", concurrencyKey: "ws-prod" } })).submitTask.data;
    expect([first, second].map((t: { status: string; keyBlocked: boolean }) => [t.status, t.keyBlocked])).toEqual([
      ["pending", false],
      ["pending", true],
    ]);
    expect((await data(POOL)).pool).toEqual({
      pendingTasks: 2,
      pendingByReason: { noSlot: 1, keyBlocked: 1, reservedCap: 0 },
      reservedSlots: 0,
      reservedSlotSeconds: 0,
      maxReservedFraction: 0.5,
      maxTasksPerPod: 3,
    });
    const metrics = await (await api.fetch("/metrics", { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    expect(metrics).toMatch(/^berth_tasks_pending\{pool="web",reason="key_blocked"\} 1$/m);
    expect(metrics).toMatch(/^berth_tasks_pending\{pool="web",reason="no_slot"\} 1$/m);

    const latest = (await data(SUBMIT, { input: { pool: "web", type: "plan", concurrencyKey: "ws-prod", supersede: true } })).submitTask.data;
    expect(latest).toMatchObject({ status: "pending", keyBlocked: false, concurrencyKey: "ws-prod" });
    const tasks = (await data(`query { tasks(pool: "web") { id status failureReason } }`)).tasks as { id: string; status: string; failureReason: string | null }[];
    expect(tasks.filter((t) => t.id !== latest.id).map((t) => [t.status, t.failureReason])).toEqual([
      ["cancelled", "superseded"],
      ["cancelled", "superseded"],
    ]);
  });
});
