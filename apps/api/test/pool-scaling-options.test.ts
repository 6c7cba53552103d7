// The autoscaler's pool options over GraphQL: burst bound, recycling limits and capacity
// windows are stored and read back; a bad value is a ValidationError naming the field, and
// nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const FIELDS = `name maxStep scaleUpMaxStep maxTasksPerPod maxPodAgeSeconds
  capacityWindows { cron timeZone durationSeconds minPods maxPods blockScaleDown prewarmSeconds }
  activeCapacityWindow { index startsAt endsAt window { cron } }`;
const CREATE = `mutation($input: CreatePoolInput!) {
  createPool(input: $input) {
    __typename
    ... on MutationCreatePoolSuccess { data { ${FIELDS} } }
    ... on ValidationError { field message }
  }
}`;
const UPDATE = `mutation($name: String!, $input: UpdatePoolInput!) {
  updatePool(name: $name, input: $input) {
    __typename
    ... on MutationUpdatePoolSuccess { data { ${FIELDS} } }
    ... on ValidationError { field message }
  }
}`;
const POOL = `query($name: String!) { pool(name: $name) { ${FIELDS} } }`;

let api: TestApi;
let operator: string;

beforeAll(async () => {
  api = await createTestApi({ backend: "pglite" });
  operator = await api.tokenFor("operator");
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await api?.close();
});

const window = { cron: "0 8 * * 1-5", timeZone: "Europe/Berlin", durationSeconds: 36_000, minPods: 5 };

describe("pool scaling options", () => {
  it("are stored on create and read back, with defaults for what was not given", async () => {
    const result = await api.gql(CREATE, { input: { name: "opts", maxPods: 10, scaleUpMaxStep: 4, maxTasksPerPod: 1, maxPodAgeSeconds: 3600, capacityWindows: [window] } }, operator);
    expect(result.errors).toBeUndefined();
    expect(result.data.createPool).toMatchObject({
      __typename: "MutationCreatePoolSuccess",
      data: {
        maxStep: 2,
        scaleUpMaxStep: 4,
        maxTasksPerPod: 1,
        maxPodAgeSeconds: 3600,
        capacityWindows: [{ ...window, maxPods: null, blockScaleDown: false, prewarmSeconds: 120 }],
      },
    });
    const plain = await api.gql(CREATE, { input: { name: "plain" } }, operator);
    expect(plain.data.createPool.data).toMatchObject({ scaleUpMaxStep: null, maxTasksPerPod: null, maxPodAgeSeconds: null, capacityWindows: [], activeCapacityWindow: null });
  });

  it("an update changes them; explicit null lifts a limit, [] clears the windows", async () => {
    const result = await api.gql(UPDATE, { name: "opts", input: { maxTasksPerPod: null, scaleUpMaxStep: null, capacityWindows: [] } }, operator);
    expect(result.data.updatePool).toMatchObject({ data: { maxTasksPerPod: null, scaleUpMaxStep: null, maxPodAgeSeconds: 3600, capacityWindows: [] } });
  });

  it("a window in effect now shows as activeCapacityWindow", async () => {
    const always = { cron: "* * * * *", durationSeconds: 120, blockScaleDown: true };
    const result = await api.gql(UPDATE, { name: "plain", input: { capacityWindows: [always] } }, operator);
    expect(result.data.updatePool.data.activeCapacityWindow).toMatchObject({ index: 0, window: { cron: "* * * * *" } });
  });

  it.each([
    ["create", { name: "bad", maxTasksPerPod: 0 }, "maxTasksPerPod"],
    ["create", { name: "bad", maxPodAgeSeconds: 10 }, "maxPodAgeSeconds"],
    ["create", { name: "bad", scaleUpMaxStep: 0 }, "scaleUpMaxStep"],
    ["create", { name: "bad", capacityWindows: [{ ...window, timeZone: "Nowhere/Town" }] }, "capacityWindows[0].timeZone"],
    ["create", { name: "bad", capacityWindows: [{ ...window, cron: "not a cron" }] }, "capacityWindows[0].cron"],
    ["update", { maxPodAgeSeconds: -5 }, "maxPodAgeSeconds"],
    ["update", { capacityWindows: [window, { ...window, durationSeconds: 0 }] }, "capacityWindows[1].durationSeconds"],
    ["update", { capacityWindows: [{ ...window, minPods: 500 }] }, "capacityWindows[0].minPods"],
  ])("a bad value (%s, %j) is a ValidationError naming %s, and nothing is stored", async (op, input, field) => {
    const before = await api.gql(POOL, { name: "opts" }, operator);
    const result = op === "create" ? await api.gql(CREATE, { input }, operator) : await api.gql(UPDATE, { name: "opts", input }, operator);
    expect(result.errors).toBeUndefined();
    expect(result.data[op === "create" ? "createPool" : "updatePool"]).toMatchObject({ __typename: "ValidationError", field });
    expect((await api.gql(POOL, { name: "bad" }, operator)).data.pool).toBeNull();
    expect(await api.gql(POOL, { name: "opts" }, operator)).toEqual(before);
  });
});
