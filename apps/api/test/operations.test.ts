// Every operation of the public contract, sent as its text in the contract, through yoga.fetch
// against PostgreSQL (PGlite when PostgreSQL is not available and not required).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";
import { contractOperation as op, nextData, readSse } from "./support/contract.js";

const backend = backends.includes("postgres") ? "postgres" : "pglite";

describe(`the contract's operations on ${backend}`, () => {
  let api: TestApi;
  let runtime: FakeRuntime;
  let agentToken: string;

  beforeAll(async () => {
    runtime = new FakeRuntime();
    api = await createTestApi({ backend, runtime });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const ok = async (name: string, variables: Record<string, unknown> = {}, token?: string | null) => {
    const result = await api.gql(op(name), variables, token);
    expect(result.errors, `${name}: ${JSON.stringify(result.errors)}`).toBeUndefined();
    return result.data;
  };
  const mutation = async (name: string, field: string, variables: Record<string, unknown>, token?: string) => {
    const data = await ok(name, variables, token);
    return data[field] as { __typename: string; data?: unknown; message?: string };
  };
  const subscribe = async (name: string, variables: Record<string, unknown> = {}, token = api.adminToken) => {
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: op(name), variables }),
    });
    expect(response.status).toBe(200);
    return readSse(response);
  };
  const registerAll = async () => {
    for (const pod of await runtime.list({ name: "web" } as never)) {
      const r = await mutation("RegisterAgent", "registerAgent", { pod: pod.name }, agentToken);
      expect(r.__typename).toBe("MutationRegisterAgentSuccess");
    }
  };

  it("Cluster", async () => {
    expect((await ok("Cluster")).cluster).toMatchObject({ mode: "local", totalReplicas: 1, environment: "test" });
  });

  it("CreatePool, with typed errors for a bad spec and nothing created", async () => {
    const bad = await mutation("CreatePool", "createPool", { input: { name: "web", minPods: 3, maxPods: 1 } });
    expect(bad).toMatchObject({ __typename: "ValidationError", message: expect.stringContaining("minPods") });
    const badName = await mutation("CreatePool", "createPool", { input: { name: "Web Pool" } });
    expect(badName.__typename).toBe("ValidationError");
    expect((await ok("Pools")).pools).toEqual([]);
    const created = await mutation("CreatePool", "createPool", { input: { name: "web", minPods: 0, maxPods: 3, autoscale: false } });
    expect(created).toEqual({ __typename: "MutationCreatePoolSuccess", data: { name: "web", slotsPerPod: 3, minPods: 0, maxPods: 3 } });
    const again = await mutation("CreatePool", "createPool", { input: { name: "web" } });
    expect(again.__typename).toBe("ConflictError");
    agentToken = await api.tokenFor("agent", { pool: "web" });
  });

  it("UpdatePool", async () => {
    const updated = await mutation("UpdatePool", "updatePool", { name: "web", input: { maxPods: 4, scaleUpAt: 0.9 } });
    expect(updated).toMatchObject({ __typename: "MutationUpdatePoolSuccess", data: { maxPods: 4, scaleUpAt: 0.9, autoscale: false } });
    const missing = await mutation("UpdatePool", "updatePool", { name: "nope", input: { maxPods: 4 } });
    expect(missing.__typename).toBe("NotFoundError");
  });

  it("ScalePool, RegisterAgent, Heartbeat, Pools and Pool", async () => {
    const scaled = await mutation("ScalePool", "scalePool", { name: "web", pods: 2 });
    expect(scaled).toEqual({ __typename: "MutationScalePoolSuccess", data: { requested: 2, applied: 2, blockedPods: 0, podCount: 2 } });
    expect(runtime.pods.size).toBe(2);
    await registerAll();
    const pod = [...runtime.pods.keys()][0]!;
    expect(await mutation("Heartbeat", "heartbeat", { pod }, agentToken)).toEqual({ __typename: "MutationHeartbeatSuccess", data: true });
    const pools = (await ok("Pools")).pools;
    expect(pools).toEqual([
      expect.objectContaining({ name: "web", podCount: 2, totalSlots: 6, busySlots: 0, reservedSlots: 0, pendingTasks: 0, utilization: 0 }),
    ]);
    const pool = (await ok("Pool", { name: "web" })).pool;
    expect(pool.pods).toHaveLength(2);
    expect(pool.pods.every((p: { phase: string; slots: unknown[] }) => p.phase === "Ready" && p.slots.length === 3)).toBe(true);
    expect(pool.scalingEvents[0]).toMatchObject({ kind: "manual_scale", fromPods: 0, toPods: 2 });
    expect((await ok("Pool", { name: "nope" })).pool).toBeNull();
  });

  it("SubmitTask, Assignments and SlotChanged: the agent and the grid see the placement", async () => {
    const slotEvents = await subscribe("SlotChanged", { pool: "web" });
    const pod = [...runtime.pods.keys()][0]!;
    const first = await mutation("SubmitTask", "submitTask", { input: { pool: "web", type: "plan", payload: { durationMs: 5 } } });
    expect(first).toMatchObject({ __typename: "MutationSubmitTaskSuccess", data: { type: "plan", status: "running" } });
    const change = await nextData<{ slotChanged: Record<string, unknown> }>(slotEvents);
    expect(change.slotChanged).toMatchObject({ pool: "web", state: "running", taskId: (first.data as { id: string }).id });
    await slotEvents.return(undefined);

    const placed = (await ok("Task", { id: (first.data as { id: string }).id })).task;
    const assignments = await subscribe("Assignments", { pod: placed.pod.name }, agentToken);
    const current = await nextData<{ assignments: { task: { id: string; status: string; payload: unknown }; slot: { index: number } } }>(assignments);
    expect(current.assignments).toEqual({ task: { id: placed.id, type: "plan", status: "running", payload: { durationMs: 5 } }, slot: { index: placed.slot.index } });
    await assignments.return(undefined);
    expect(pod).toBeTruthy();
    const tooBig = await mutation("SubmitTask", "submitTask", { input: { pool: "web", type: "plan", payload: { blob: "x".repeat(70_000) } } });
    expect(tooBig.__typename).toBe("ValidationError");
    const unknownPool = await mutation("SubmitTask", "submitTask", { input: { pool: "nope", type: "plan" } });
    expect(unknownPool.__typename).toBe("NotFoundError");

    // A client retrying with an idempotency key gets its first task back; reusing the key for another task is a conflict.
    const keyed = { pool: "web", type: "plan", payload: { durationMs: 5 }, idempotencyKey: "retry-1" };
    const once = await mutation("SubmitTask", "submitTask", { input: keyed });
    const twice = await mutation("SubmitTask", "submitTask", { input: keyed });
    expect((twice.data as { id: string }).id).toBe((once.data as { id: string }).id);
    const reused = await mutation("SubmitTask", "submitTask", { input: { ...keyed, type: "apply" } });
    expect(reused).toMatchObject({ __typename: "ConflictError", message: expect.stringContaining("retry-1") });
    await mutation("CancelTask", "cancelTask", { id: (once.data as { id: string }).id });
  });

  it("Task, Tasks, ReportTask, ApproveTask: plan_and_apply reserves the slot and applies on the same pod and slot", async () => {
    const submitted = await mutation("SubmitTask", "submitTask", { input: { pool: "web", type: "plan_and_apply" } });
    const id = (submitted.data as { id: string }).id;
    const task = (await ok("Task", { id })).task;
    expect(task).toMatchObject({ id, type: "plan_and_apply", status: "running", error: null, slot: { state: "running" } });
    const early = await mutation("ApproveTask", "approveTask", { id });
    expect(early.__typename).toBe("ConflictError");
    const reported = await mutation("ReportTask", "reportTask", { input: { taskId: id, status: "apply_pending", output: { plan: "+1" } } }, agentToken);
    expect(reported).toEqual({ __typename: "MutationReportTaskSuccess", data: { id, status: "apply_pending" } });
    expect((await ok("Task", { id })).task.slot).toEqual({ index: task.slot.index, state: "reserved" });
    const approved = await mutation("ApproveTask", "approveTask", { id });
    expect(approved).toEqual({ __typename: "MutationApproveTaskSuccess", data: { id, status: "applying", pod: { name: task.pod.name }, slot: { index: task.slot.index } } });
    const done = await mutation("ReportTask", "reportTask", { input: { taskId: id, status: "succeeded" } }, agentToken);
    expect(done.data).toEqual({ id, status: "succeeded" });
    const tasks = (await ok("Tasks", { pool: "web", status: ["succeeded"], first: 10 })).tasks;
    expect(tasks.map((t: { id: string }) => t.id)).toContain(id);
    const badStatus = await mutation("ReportTask", "reportTask", { input: { taskId: id, status: "exploded" } }, agentToken);
    expect(badStatus.__typename).toBe("ValidationError");
  });

  it("an agent token of another pool cannot report on this pool's tasks", async () => {
    await mutation("CreatePool", "createPool", { input: { name: "other", maxPods: 1 } });
    const otherAgent = await api.tokenFor("agent", { pool: "other" });
    const running = (await ok("Tasks", { pool: "web", status: ["running"], first: 1 })).tasks[0];
    const refused = await mutation("ReportTask", "reportTask", { input: { taskId: running.id, status: "succeeded" } }, otherAgent);
    expect(refused.__typename).toBe("ForbiddenError");
    expect((await ok("Task", { id: running.id })).task.status).toBe("running");
  });

  it("CancelTask frees the slot; cancelling a finished task is a conflict", async () => {
    const running = (await ok("Tasks", { pool: "web", status: ["running"], first: 1 })).tasks[0];
    expect(await mutation("CancelTask", "cancelTask", { id: running.id })).toEqual({ __typename: "MutationCancelTaskSuccess", data: { id: running.id, status: "cancelled" } });
    expect((await ok("Task", { id: running.id })).task.slot).toBeNull();
    const finished = (await ok("Tasks", { pool: "web", status: ["succeeded"], first: 1 })).tasks[0];
    expect((await mutation("CancelTask", "cancelTask", { id: finished.id })).__typename).toBe("ConflictError");
    expect((await mutation("CancelTask", "cancelTask", { id: "00000000-0000-0000-0000-000000000000" })).__typename).toBe("NotFoundError");
  });

  it("SyncAgent (beside the contract): the pod's heartbeat and truth in one call; a stop the agent confirms frees the slot", async () => {
    const SYNC = `mutation SyncAgent($input: SyncAgentInput!) { syncAgent(input: $input) { __typename
      ... on MutationSyncAgentSuccess { data { pod { name phase } draining stop assignments { action slot { index } task { id status deadlineAt } } reserved { task { id } } } }
      ... on ConflictError { message code } ... on Error { message } } }`;
    const submitted = (await mutation("SubmitTask", "submitTask", { input: { pool: "web", type: "plan" } })).data as { id: string };
    const task = (await ok("Task", { id: submitted.id })).task;
    const pod = task.pod.name as string;
    const sync = async (active: string[], token = agentToken) => (await api.gql(SYNC, { input: { pod, active } }, token)).data.syncAgent;
    const first = await sync([submitted.id]);
    expect(first.__typename).toBe("MutationSyncAgentSuccess");
    expect(first.data.pod).toEqual({ name: pod, phase: "Ready" });
    expect(first.data.assignments).toContainEqual({ action: "run", slot: { index: task.slot.index }, task: { id: submitted.id, status: "running", deadlineAt: expect.any(String) } });
    expect(first.data.stop).toEqual([]);
    // Listed as running, the task is acknowledged: a cancel waits for the agent to stop it.
    await mutation("CancelTask", "cancelTask", { id: submitted.id });
    expect((await ok("Task", { id: submitted.id })).task.slot).toMatchObject({ state: "running" });
    expect((await sync([submitted.id])).data.stop).toEqual([submitted.id]);
    await sync([]);
    expect((await ok("Task", { id: submitted.id })).task.slot).toBeNull();
    // An id that is not this pod's work is to be stopped, and nothing else about it is told.
    expect((await sync(["00000000-0000-0000-0000-000000000000"])).data.stop).toEqual(["00000000-0000-0000-0000-000000000000"]);
    // Another pool's agent may not sync this pod.
    const otherAgent = await api.tokenFor("agent", { pool: "other" });
    expect((await sync([], otherAgent)).__typename).toBe("ForbiddenError");
  });

  it("PoolChanged streams pool-level changes", async () => {
    const events = await subscribe("PoolChanged");
    await mutation("UpdatePool", "updatePool", { name: "web", input: { maxPods: 5 } });
    const change = await nextData<{ poolChanged: Record<string, unknown> }>(events);
    expect(change.poolChanged).toMatchObject({ name: "web", podCount: 2 });
    await events.return(undefined);
  });

  it("CronJobs, TriggerCronJob, CronRuns, PauseCronJob, ResumeCronJob, CronRunUpdated, Locks", async () => {
    const jobs = (await ok("CronJobs")).cronJobs;
    expect(jobs.map((j: { name: string }) => j.name).sort()).toEqual(["dispatch-schedules", "expire-reservations", "prune-cron-history", "reconcile-pools", "task-logs"]);
    const updates = await subscribe("CronRunUpdated");
    const triggered = await mutation("TriggerCronJob", "triggerCronJob", { name: "expire-reservations" });
    expect(triggered).toMatchObject({ __typename: "MutationTriggerCronJobSuccess", data: { status: expect.stringMatching(/running|succeeded/) } });
    const update = await nextData<{ cronRunUpdated: { job: string } }>(updates);
    expect(update.cronRunUpdated.job).toBe("expire-reservations");
    await updates.return(undefined);
    await api.services.cron.idle();
    const runs = (await ok("CronRuns", { job: "expire-reservations", first: 5 })).cronRuns;
    expect(runs[0]).toMatchObject({ id: (triggered.data as { id: string }).id, job: "expire-reservations", status: "succeeded" });
    expect(await mutation("PauseCronJob", "pauseCronJob", { name: "reconcile-pools" })).toEqual({ __typename: "MutationPauseCronJobSuccess", data: { name: "reconcile-pools", paused: true } });
    expect(await mutation("ResumeCronJob", "resumeCronJob", { name: "reconcile-pools" })).toEqual({ __typename: "MutationResumeCronJobSuccess", data: { name: "reconcile-pools", paused: false } });
    expect((await mutation("PauseCronJob", "pauseCronJob", { name: "nope" })).__typename).toBe("NotFoundError");
    const lock = await api.services.locks.acquire("contract-test", 10_000);
    expect((await ok("Locks")).locks).toEqual([expect.objectContaining({ key: "contract-test", fencingToken: String(lock!.fencingToken) })]);
    await lock!.release();
  });

  it("UploadObject, Objects, ObjectMetadata, PresignedUrl (and its download), DeleteObject", async () => {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: op("UploadObject"), variables: { key: "reports/a.txt", file: null } }));
    form.set("map", JSON.stringify({ 0: ["variables.file"] }));
    form.set("0", new File(["hello berth"], "a.txt", { type: "text/plain" }));
    const response = await api.fetch("/graphql", { method: "POST", headers: { authorization: `Bearer ${api.adminToken}`, "x-graphql-yoga-csrf": "1" }, body: form });
    const uploaded = (await response.json()) as { data: { uploadObject: unknown } };
    expect(uploaded.data.uploadObject).toEqual({ __typename: "MutationUploadObjectSuccess", data: { key: "reports/a.txt", size: 11, contentType: "text/plain" } });
    expect((await ok("Objects", { prefix: "" })).objects).toEqual({ folders: ["reports/"], objects: [] });
    expect((await ok("Objects", { prefix: "reports/" })).objects.objects).toEqual([expect.objectContaining({ key: "reports/a.txt", size: 11, contentType: "text/plain" })]);
    expect((await ok("ObjectMetadata", { key: "reports/a.txt" })).object).toMatchObject({ key: "reports/a.txt", size: 11, contentType: "text/plain" });
    const url = (await ok("PresignedUrl", { key: "reports/a.txt", expiresIn: 60 })).presignedUrl as string;
    const link = new URL(url);
    const download = await api.fetch(link.pathname + link.search);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe("hello berth");
    expect((await ok("PresignedUrl", { key: "missing.txt" })).presignedUrl).toBeNull();
    const hostile = await mutation("DeleteObject", "deleteObject", { key: "../etc/passwd" });
    expect(hostile.__typename).toBe("ValidationError");
    expect(await mutation("DeleteObject", "deleteObject", { key: "reports/a.txt" })).toEqual({ __typename: "MutationDeleteObjectSuccess", data: true });
    expect((await ok("ObjectMetadata", { key: "reports/a.txt" })).object).toBeNull();
  });

  it("CreateApiToken shows the token once; DeletePool refuses while slots are busy, then deletes", async () => {
    const created = await mutation("CreateApiToken", "createApiToken", { name: "ci", role: "viewer" });
    expect(created).toMatchObject({ __typename: "MutationCreateApiTokenSuccess", data: { name: "ci", role: "viewer", token: expect.stringMatching(/^berth_/) } });
    const submitted = await mutation("SubmitTask", "submitTask", { input: { pool: "web", type: "plan" } });
    const busy = await mutation("DeletePool", "deletePool", { name: "web" });
    expect(busy).toMatchObject({ __typename: "ConflictError", message: expect.stringContaining("running or reserved") });
    await mutation("CancelTask", "cancelTask", { id: (submitted.data as { id: string }).id });
    expect(await mutation("DeletePool", "deletePool", { name: "web" })).toEqual({ __typename: "MutationDeletePoolSuccess", data: true });
    expect((await ok("Pool", { name: "web" })).pool).toBeNull();
    expect((await mutation("DeletePool", "deletePool", { name: "web" })).__typename).toBe("NotFoundError");
  });
});
