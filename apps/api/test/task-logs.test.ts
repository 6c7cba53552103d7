// Task logs through the API: agents append, viewers read and follow them live.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op, nextData, readSse } from "./support/contract.js";

const APPEND = `mutation($input: AppendTaskLogInput!) {
  appendTaskLog(input: $input) {
    __typename
    ... on MutationAppendTaskLogSuccess { data { nextOffset } }
    ... on TaskLogGapError { message currentSize }
    ... on ValidationError { field }
    ... on Error { message }
  }
}`;
const LOG = `query($id: ID!, $from: Float) { task(id: $id) { log(from: $from) { data nextOffset complete truncated } } }`;
const FOLLOW = `subscription($id: ID!, $from: Float) { taskLog(id: $id, from: $from) { data nextOffset complete truncated } }`;

describe("task logs through the API", () => {
  let api: TestApi;
  const runtime = new FakeRuntime();
  let pod: string;
  let otherPod: string;
  let agent: string;
  let otherAgent: string;
  let viewer: string;

  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite", runtime });
    for (const name of ["web", "batch"]) {
      await api.services.pools.createPool({ name, minPods: 0, maxPods: 1, autoscale: false });
      await api.services.pools.scalePool(name, 1);
    }
    pod = [...runtime.pods.values()].find((p) => p.pool === "web")!.name;
    otherPod = [...runtime.pods.values()].find((p) => p.pool === "batch")!.name;
    agent = await api.tokenFor("agent", { pool: "web", name: "web agent" });
    otherAgent = await api.tokenFor("agent", { pool: "batch", name: "batch agent" });
    viewer = await api.tokenFor("viewer");
    expect((await api.gql(op("RegisterAgent"), { pod }, agent)).data.registerAgent.__typename).toBe("MutationRegisterAgentSuccess");
    expect((await api.gql(op("RegisterAgent"), { pod: otherPod }, otherAgent)).data.registerAgent.__typename).toBe("MutationRegisterAgentSuccess");
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  async function runningTask(): Promise<string> {
    const res = await api.gql(`mutation { submitTask(input: { pool: "web", type: "plan" }) { ... on MutationSubmitTaskSuccess { data { id status podName } } } }`);
    expect(res.data.submitTask.data).toMatchObject({ status: "running", podName: pod });
    return res.data.submitTask.data.id;
  }
  const append = (taskId: string, offset: number, data: string, token = agent, onPod = pod) => api.gql(APPEND, { input: { taskId, pod: onPod, offset, data } }, token);

  it("an agent appends idempotently; a gap is a TaskLogGapError with the current size; viewers read pages", async () => {
    const id = await runningTask();
    expect((await append(id, 0, "one\n")).data.appendTaskLog).toEqual({ __typename: "MutationAppendTaskLogSuccess", data: { nextOffset: 4 } });
    expect((await append(id, 0, "one\n")).data.appendTaskLog.data).toEqual({ nextOffset: 4 });
    expect((await append(id, 9, "late\n")).data.appendTaskLog).toMatchObject({ __typename: "TaskLogGapError", currentSize: 4 });
    expect((await append(id, 0, "x".repeat(256 * 1024 + 1))).data.appendTaskLog).toMatchObject({ __typename: "ValidationError", field: "data" });
    expect((await api.gql(LOG, { id }, viewer)).data.task.log).toEqual({ data: "one\n", nextOffset: 4, complete: false, truncated: false });
    expect((await api.gql(LOG, { id, from: 2 }, viewer)).data.task.log.data).toBe("e\n");
  });

  it("another pool's agent, a wrong pod and a viewer are refused, and nothing is stored", async () => {
    const id = await runningTask();
    expect((await append(id, 0, "x", otherAgent, pod)).data.appendTaskLog.__typename).toBe("ForbiddenError");
    expect((await append(id, 0, "x", otherAgent, otherPod)).data.appendTaskLog.__typename).toBe("ForbiddenError");
    expect((await append(id, 0, "x", agent, otherPod)).data.appendTaskLog.__typename).toBe("ForbiddenError");
    const byViewer = await append(id, 0, "x", viewer);
    expect(byViewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.services.prisma.taskLog.findUnique({ where: { taskId: id } })).toBeNull();
    expect(await api.services.prisma.taskLogChunk.count({ where: { taskId: id } })).toBe(0);
  });

  it("taskLog delivers what is there, then each chunk live, and completes when the task ends", async () => {
    const id = await runningTask();
    await append(id, 0, "first\n");
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ query: FOLLOW, variables: { id } }),
    });
    const events = readSse(response);
    try {
      expect((await nextData<{ taskLog: unknown }>(events)).taskLog).toEqual({ data: "first\n", nextOffset: 6, complete: false, truncated: false });
      await append(id, 6, "second\n");
      expect((await nextData<{ taskLog: unknown }>(events)).taskLog).toEqual({ data: "second\n", nextOffset: 13, complete: false, truncated: false });
      // A resent chunk is not delivered again; the next new bytes are.
      await append(id, 6, "second\nthird\n");
      expect((await nextData<{ taskLog: unknown }>(events)).taskLog).toMatchObject({ data: "third\n", nextOffset: 19 });
      const report = await api.gql(op("ReportTask"), { input: { taskId: id, pod, status: "succeeded" } }, agent);
      expect(report.data.reportTask.__typename).toBe("MutationReportTaskSuccess");
      expect((await nextData<{ taskLog: unknown }>(events)).taskLog).toEqual({ data: "", nextOffset: 19, complete: true, truncated: false });
      // Then the stream ends: no further page.
      const rest: unknown[] = [];
      for await (const event of events) if (event.event === "next") rest.push(event.data);
      expect(rest).toEqual([]);
    } finally {
      await events.return(undefined);
    }
    // The log moved to storage when the task ended, and reads the same from there.
    await expect.poll(() => api.services.storage.exists(`tasks/${id}/log`)).toBe(true);
    expect((await api.gql(LOG, { id }, viewer)).data.task.log).toEqual({ data: "first\nsecond\nthird\n", nextOffset: 19, complete: true, truncated: false });
  });
});
