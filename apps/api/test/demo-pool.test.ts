// The embedded demo, as `pnpm start` runs it: the `demo` pool declares task types whose commands
// are the scripts in packages/agent/demo, and its local pods run @berth/agent. A plan_and_apply
// task plans (printing progress, writing plan.json), waits for approval, and its apply reads the
// plan's file in the same working directory on the same pod; the log holds both.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiProcess, type ApiProcess } from "./support/processes.js";

const TOKEN = "demo-pool-test-admin-token-0123456789";
/** This test's own port: its local pods are told to call it. */
const PORT = Number(process.env.BERTH_TEST_DEMO_PORT ?? 4810);

let api: ApiProcess;
let dataDir: string;

async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

interface TaskView {
  id: string;
  status: string;
  podName: string | null;
  output: Record<string, unknown> | null;
  failureReason: string | null;
  log: { data: string };
}
const TASK = `query($id: ID!) { task(id: $id) { id status podName output failureReason log { data } } }`;

async function waitFor(id: string, statuses: string[], timeoutMs = 90_000): Promise<TaskView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { task } = await gql<{ task: TaskView }>(TASK, { id });
    if (statuses.includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} is ${task.status}: ${api.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "berth-demo-pool-"));
  api = await startApiProcess({ BERTH_DATA_DIR: dataDir, BERTH_ADMIN_TOKEN: TOKEN, CLUSTER_MODE: "false", AGENT_HEARTBEAT_SECONDS: "1" }, 120_000, PORT);
}, 150_000);

afterAll(async () => {
  // Local pods outlive the API: deleting the pool stops them.
  if (api) await gql(`mutation { deletePool(name: "demo") { __typename } }`).catch(() => undefined);
  await api?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe("the demo pool", () => {
  it("declares plan, apply and plan_and_apply as commands of the scripts shipped with the agent", async () => {
    const { pool } = await gql<{ pool: { taskTypes: { name: string; command: string[]; applyCommand: string[] | null }[] } }>(
      `{ pool(name: "demo") { taskTypes { name command applyCommand } } }`,
    );
    expect(pool.taskTypes.map((t) => [t.name, t.command.at(-1)!.split("/").at(-1), t.applyCommand?.at(-1)!.split("/").at(-1) ?? null])).toEqual([
      ["plan", "plan.mjs", null],
      ["apply", "apply.mjs", null],
      ["plan_and_apply", "plan.mjs", "apply.mjs"],
    ]);
  });

  it("plans, waits for approval, and applies from the plan's file on the same pod, with both in the task's log", async () => {
    const submitted = await gql<{ submitTask: { data: { id: string } } }>(
      `mutation { submitTask(input: { pool: "demo", type: "plan_and_apply", payload: { durationMs: 600, steps: 3 } }) { ... on MutationSubmitTaskSuccess { data { id } } } }`,
    );
    const id = submitted.submitTask.data.id;
    const planned = await waitFor(id, ["apply_pending", "failed", "cancelled"]);
    expect(planned.status).toBe("apply_pending");
    expect(planned.output).toMatchObject({ plan: "Plan: 3 to add, 0 to change, 0 to destroy." });
    expect(planned.log.data).toContain("resource_3 will be created (3/3)");

    await gql(`mutation($id: ID!) { approveTask(id: $id) { __typename } }`, { id });
    const applied = await waitFor(id, ["succeeded", "failed"], 60_000);
    expect(applied.status).toBe("succeeded");
    expect(applied.output).toMatchObject({ applied: 3, plannedOn: planned.podName });
    expect(applied.podName).toBe(planned.podName);
    const log = applied.log.data;
    expect(log.indexOf(`applying 3 change(s) from plan.json (planned on ${planned.podName})`)).toBeGreaterThan(log.indexOf("Plan: 3 to add"));
    // The plan says where it wrote its file; the apply read that very file.
    const workdir = /wrote (\S+)\/plan\.json/.exec(log)?.[1];
    expect(workdir).toBeTruthy();
    expect(log).toContain(`read ${workdir}/plan.json, written by the plan of task ${id} on ${planned.podName}`);
    // Progress lines carry the moment they were printed, for a reader to tell how late they arrived.
    expect(log).toMatch(/resource_1 will be created \(1\/3\) at \d{13}\n/);
    expect(log).toContain("Apply complete!");
  });

  it("still honours the built-in payload: fail: true fails the task", async () => {
    const submitted = await gql<{ submitTask: { data: { id: string } } }>(
      `mutation { submitTask(input: { pool: "demo", type: "plan", payload: { durationMs: 100, fail: true } }) { ... on MutationSubmitTaskSuccess { data { id } } } }`,
    );
    const failed = await waitFor(submitted.submitTask.data.id, ["succeeded", "failed"]);
    expect(failed).toMatchObject({ status: "failed", failureReason: "command_failed" });
  });
});
