// Task types a pool declares: validated and bounded before anything is stored; on the local
// runtime (commands run on the API's own machine) only an admin may set or change them; a task
// of a type its pool does not declare is refused at submit, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedPool } from "../../../packages/core/test/support/core.js";
import { nextData, readSse } from "./support/contract.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const CREATE = `mutation($input: CreatePoolInput!) {
  createPool(input: $input) {
    __typename
    ... on MutationCreatePoolSuccess { data { name taskTypes { name command applyCommand shell env timeoutSeconds keep planAndApply } } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}`;
const UPDATE = `mutation($name: String!, $input: UpdatePoolInput!) {
  updatePool(name: $name, input: $input) {
    __typename
    ... on MutationUpdatePoolSuccess { data { name maxPods taskTypes { name } } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}`;
const SUBMIT = `mutation($input: SubmitTaskInput!) {
  submitTask(input: $input) {
    __typename
    ... on MutationSubmitTaskSuccess { data { id type } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}`;
const POOLS = `{ pools { name maxPods taskTypes { name command applyCommand shell env timeoutSeconds keep } } }`;

const terraform = [
  { name: "plan_and_apply", command: ["terraform", "plan", "-out=tfplan"], applyCommand: ["terraform", "apply", "tfplan"], env: { TF_IN_AUTOMATION: "1" }, timeoutSeconds: 1800 },
  { name: "check", command: ["sh", "-c", "echo ok"] },
];

let api: TestApi;
let operator: string;

beforeAll(async () => {
  api = await createTestApi({ backend: "pglite" });
  operator = await api.tokenFor("operator");
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await api?.close();
});

const pools = async () => (await api.gql(POOLS)).data.pools as { name: string; maxPods: number; taskTypes: unknown }[];
const taskCount = () => api.services.core.prisma.task.count();

describe("declaring task types", () => {
  it("an admin declares them on a local pool; they come back with their defaults filled in", async () => {
    const result = await api.gql(CREATE, { input: { name: "tf", taskTypes: terraform } });
    expect(result.errors).toBeUndefined();
    expect(result.data.createPool).toMatchObject({
      __typename: "MutationCreatePoolSuccess",
      data: {
        taskTypes: [
          { name: "plan_and_apply", command: ["terraform", "plan", "-out=tfplan"], applyCommand: ["terraform", "apply", "tfplan"], shell: false, env: { TF_IN_AUTOMATION: "1" }, timeoutSeconds: 1800, keep: "none", planAndApply: true },
          { name: "check", command: ["sh", "-c", "echo ok"], applyCommand: null, shell: false, env: {}, timeoutSeconds: null, keep: "none", planAndApply: false },
        ],
      },
    });
  });

  it("an operator may not declare commands on a local pool: ForbiddenError, nothing stored", async () => {
    const before = await pools();
    const result = await api.gql(CREATE, { input: { name: "sneaky", taskTypes: [{ name: "x", command: ["rm", "-rf", "/"] }] } }, operator);
    expect(result.data.createPool.__typename).toBe("ForbiddenError");
    expect(result.data.createPool.message).toMatch(/only an admin may declare or change task types with commands on pool sneaky/);
    expect(await pools()).toEqual(before);
  });

  it("an operator may change other settings of such a pool, but not its task types", async () => {
    const scaled = await api.gql(UPDATE, { name: "tf", input: { maxPods: 5 } }, operator);
    expect(scaled.data.updatePool).toMatchObject({ __typename: "MutationUpdatePoolSuccess", data: { maxPods: 5 } });
    const before = await pools();
    const changed = await api.gql(UPDATE, { name: "tf", input: { taskTypes: [{ name: "check", command: ["id"] }] } }, operator);
    expect(changed.data.updatePool.__typename).toBe("ForbiddenError");
    expect(await pools()).toEqual(before);
  });

  it.each([
    ["a bad name", [{ name: "has space", command: ["true"] }], "taskTypes[0].name"],
    ["an empty command", [{ name: "a", command: [] }], "taskTypes[0].command"],
    ["an empty argument", [{ name: "a", command: ["true", ""] }], "taskTypes[0].command[1]"],
    ["an overlong argument", [{ name: "a", command: ["x".repeat(4097)] }], "taskTypes[0].command[0]"],
    ["too many arguments", [{ name: "a", command: Array.from({ length: 65 }, () => "x") }], "taskTypes[0].command"],
    ["an env name Berth sets", [{ name: "a", command: ["true"], env: { BERTH_PAYLOAD: "{}" } }], "taskTypes[0].env.BERTH_PAYLOAD"],
    ["an env value that is not a string", [{ name: "a", command: ["true"], env: { N: 1 } }], "taskTypes[0].env.N"],
    ["a timeout of 0", [{ name: "a", command: ["true"], timeoutSeconds: 0 }], "taskTypes[0].timeoutSeconds"],
    ["an unknown keep", [{ name: "a", command: ["true"], keep: "everything" }], "taskTypes[0].keep"],
    ["a type declared twice", [{ name: "a", command: ["true"] }, { name: "a", command: ["false"] }], "taskTypes[1].name"],
    ["33 types", Array.from({ length: 33 }, (_, i) => ({ name: `t${i}`, command: ["true"] })), "taskTypes"],
  ])("with %s is refused with a ValidationError naming the field, and nothing is stored", async (_what, taskTypes, field) => {
    const before = await pools();
    const result = await api.gql(CREATE, { input: { name: "invalid", taskTypes } });
    expect(result.errors).toBeUndefined();
    expect(result.data.createPool).toMatchObject({ __typename: "ValidationError", field });
    const update = await api.gql(UPDATE, { name: "tf", input: { taskTypes } });
    expect(update.data.updatePool).toMatchObject({ __typename: "ValidationError", field });
    expect(await pools()).toEqual(before);
  });

  it("null clears them: the pool is back on the built-in types", async () => {
    await api.gql(CREATE, { input: { name: "cleared", taskTypes: [{ name: "only", command: ["true"] }] } });
    const result = await api.gql(UPDATE, { name: "cleared", input: { taskTypes: null } });
    expect(result.data.updatePool).toMatchObject({ __typename: "MutationUpdatePoolSuccess", data: { taskTypes: null } });
    const submitted = await api.gql(SUBMIT, { input: { pool: "cleared", type: "anything-goes" } });
    expect(submitted.data.submitTask.__typename).toBe("MutationSubmitTaskSuccess");
  });
});

describe("submitting a task", () => {
  it("of a type the pool does not declare is a ValidationError naming the pool's types, and nothing is stored", async () => {
    const before = await taskCount();
    const result = await api.gql(SUBMIT, { input: { pool: "tf", type: "plan" } }, operator);
    expect(result.data.submitTask).toEqual({ __typename: "ValidationError", field: "type", message: 'pool tf has no task type "plan"; its task types: plan_and_apply, check' });
    expect(await taskCount()).toBe(before);
  });

  it("of a declared type is accepted; a pool without task types still takes the built-in ones", async () => {
    const declared = await api.gql(SUBMIT, { input: { pool: "tf", type: "check" } }, operator);
    expect(declared.data.submitTask).toMatchObject({ __typename: "MutationSubmitTaskSuccess", data: { type: "check" } });
    await api.gql(CREATE, { input: { name: "builtin" } });
    for (const type of ["plan", "apply", "plan_and_apply"]) {
      const result = await api.gql(SUBMIT, { input: { pool: "builtin", type, payload: { durationMs: 10 } } }, operator);
      expect(result.data.submitTask).toMatchObject({ __typename: "MutationSubmitTaskSuccess", data: { type } });
    }
  });
});

describe("an agent learns what to run from its assignments", () => {
  const DEFINITION = "definition { stopGraceSeconds type { name command applyCommand shell env timeoutSeconds keep planAndApply } }";
  const SYNC = `mutation($pod: String!) { syncAgent(input: { pod: $pod, active: [] }) { __typename ... on MutationSyncAgentSuccess { data { assignments { task { id type } ${DEFINITION} } } } } }`;

  it("syncAgent and the assignments subscription carry the pool's type, read fresh for each event; null for the built-in types", async () => {
    const core = api.services.core;
    const { pods } = await seedPool(core, "runs", 1, 3, { taskTypes: [{ name: "build", command: ["make"], applyCommand: null, shell: false, env: {}, timeoutSeconds: 60, keep: "none" }], stopGraceSeconds: 20 });
    const agent = await api.tokenFor("agent", { name: "agents of runs", pool: "runs" });
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${agent}` },
      body: JSON.stringify({ query: `subscription($pod: String!) { assignments(pod: $pod) { task { id } ${DEFINITION} } }`, variables: { pod: pods[0] } }),
    });
    const events = readSse(response);
    try {
      const first = await api.gql(SUBMIT, { input: { pool: "runs", type: "build" } }, operator);
      const event = await nextData<{ assignments: { task: { id: string }; definition: unknown } }>(events);
      expect(event.assignments).toEqual({
        task: { id: first.data.submitTask.data.id },
        definition: { stopGraceSeconds: 20, type: { name: "build", command: ["make"], applyCommand: null, shell: false, env: {}, timeoutSeconds: 60, keep: "none", planAndApply: false } },
      });
      const synced = await api.gql(SYNC, { pod: pods[0] }, agent);
      expect(synced.data.syncAgent.data.assignments[0].definition.type.command).toEqual(["make"]);

      // Changed while the subscription is open: the next event carries the new command.
      await api.gql(UPDATE, { name: "runs", input: { taskTypes: [{ name: "build", command: ["make", "all"] }] } });
      await api.gql(SUBMIT, { input: { pool: "runs", type: "build" } }, operator);
      const next = await nextData<{ assignments: { definition: { type: { command: string[] } } } }>(events);
      expect(next.assignments.definition.type.command).toEqual(["make", "all"]);
    } finally {
      await events.return(undefined);
    }
    const builtin = await seedPool(core, "plain", 1, 1);
    const plainAgent = await api.tokenFor("agent", { name: "agents of plain", pool: "plain" });
    await api.gql(SUBMIT, { input: { pool: "plain", type: "plan" } }, operator);
    const plain = await api.gql(SYNC, { pod: builtin.pods[0] }, plainAgent);
    expect(plain.data.syncAgent.data.assignments).toEqual([{ task: expect.objectContaining({ type: "plan" }), definition: null }]);
  });
});
