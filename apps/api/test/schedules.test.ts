// The schedules API through yoga.fetch: typed errors that name the field and store nothing,
// the lifecycle (create, list with next fire times, update, pause with a note, resume, trigger,
// backfill, history pages, delete), and dispatch through the built-in cron job.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchedule } from "@berth/core/schedules";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const backend = backends.includes("postgres") ? "postgres" : "pglite";

const ERROR = "... on Error { __typename message } ... on ValidationError { field }";
const SCHEDULE = "id name cron timeZone pool taskType payload overlap catchupWindowSeconds jitterSeconds paused pausedBy pauseNote pausedAt nextFireTimes runCount";
const RUN = "id fireAt dueAt trigger status outcome note submitDelayMs task { id status pool type payload }";

const CREATE = `mutation($input: CreateScheduleInput!) { createSchedule(input: $input) { __typename ... on MutationCreateScheduleSuccess { data { ${SCHEDULE} } } ${ERROR} } }`;
const UPDATE = `mutation($name: String!, $input: UpdateScheduleInput!) { updateSchedule(name: $name, input: $input) { __typename ... on MutationUpdateScheduleSuccess { data { ${SCHEDULE} } } ${ERROR} } }`;
const PAUSE = `mutation($name: String!, $note: String) { pauseSchedule(name: $name, note: $note) { __typename ... on MutationPauseScheduleSuccess { data { ${SCHEDULE} } } ${ERROR} } }`;
const RESUME = `mutation($name: String!) { resumeSchedule(name: $name) { __typename ... on MutationResumeScheduleSuccess { data { ${SCHEDULE} } } ${ERROR} } }`;
const TRIGGER = `mutation($name: String!) { triggerSchedule(name: $name) { __typename ... on MutationTriggerScheduleSuccess { data { ${RUN} } } ${ERROR} } }`;
const BACKFILL = `mutation($name: String!, $from: DateTime!, $to: DateTime!, $overlap: String) { backfillSchedule(name: $name, from: $from, to: $to, overlap: $overlap) { __typename ... on MutationBackfillScheduleSuccess { data { fireTimes submitted skipped buffered alreadyRecorded runs { trigger status } } } ${ERROR} } }`;
const DELETE = `mutation($name: String!) { deleteSchedule(name: $name) { __typename ... on MutationDeleteScheduleSuccess { data { name } } ${ERROR} } }`;
const LIST = `{ schedules { ${SCHEDULE} lastRun { ${RUN} } } }`;
const ONE = `query($name: String!) { schedule(name: $name) { ${SCHEDULE} } }`;
const RUNS = `query($schedule: String!, $first: Int, $after: String) { scheduleRuns(schedule: $schedule, first: $first, after: $after) { edges { cursor node { ${RUN} } } pageInfo { hasNextPage endCursor } } }`;
const PREVIEW = `query($cron: String!, $timeZone: String, $count: Int) { schedulePreview(cron: $cron, timeZone: $timeZone, count: $count) { __typename ... on QuerySchedulePreviewSuccess { data } ${ERROR} } }`;

describe(`schedules through the API on ${backend}`, () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend });
    await api.services.pools.createPool({ name: "web", minPods: 0, maxPods: 1, autoscale: false });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const data = async (document: string, variables: Record<string, unknown> = {}, token?: string | null) => {
    const result = await api.gql(document, variables, token);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return Object.values(result.data as Record<string, unknown>)[0] as Record<string, unknown> & { __typename: string; data: never; field?: string; message?: string };
  };
  const good = { name: "nightly-plan", cron: "0 30 2 * * *", timeZone: "Europe/Berlin", pool: "web", taskType: "plan", payload: { workspace: "x" } };
  const count = async () => api.services.prisma.schedule.count();

  it.each([
    [{ cron: "61 * * * *" }, "cron", /invalid cron expression/],
    [{ timeZone: "Europe/Nowhere" }, "timeZone", /unknown time zone/],
    [{ pool: "no-such-pool" }, "pool", /unknown pool/],
    [{ taskType: "not a type" }, "taskType", /taskType/],
    [{ startAt: "2040-01-01T03:00:00Z", endAt: "2040-01-01T04:00:00Z" }, "endAt", /never fires/],
    [{ overlap: "queue" }, "overlap", /overlap/],
  ])("createSchedule with %j is a ValidationError naming %s, and stores nothing", async (patch, field, message) => {
    const before = await count();
    const result = await data(CREATE, { input: { ...good, ...patch } });
    expect(result).toMatchObject({ __typename: "ValidationError", field });
    expect(result.message).toMatch(message);
    expect(await count()).toBe(before);
    expect((await data(LIST)) as unknown as unknown[]).toEqual([]);
  });

  it("a viewer may read schedules but not create one", async () => {
    const viewer = await api.tokenFor("viewer");
    const result = await api.gql(CREATE, { input: good }, viewer);
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await count()).toBe(0);
    expect((await api.gql(LIST, {}, viewer)).errors).toBeUndefined();
  });

  it("schedulePreview gives the next fire times in the zone, or a ValidationError naming the field", async () => {
    const preview = await data(PREVIEW, { cron: "0 30 2 * * *", timeZone: "Europe/Berlin", count: 3 });
    expect(preview.__typename).toBe("QuerySchedulePreviewSuccess");
    const times = preview.data as unknown as string[];
    expect(times).toHaveLength(3);
    for (const t of times) expect(new Date(t).toLocaleTimeString("en-GB", { timeZone: "Europe/Berlin" })).toMatch(/^0[23]:[03]0:00$/);
    expect(await data(PREVIEW, { cron: "0 30 2 * * *", timeZone: "Berlin" })).toMatchObject({ __typename: "ValidationError", field: "timeZone" });
    expect(await data(PREVIEW, { cron: "bogus" })).toMatchObject({ __typename: "ValidationError", field: "cron" });
  });

  it("create, list with next fire times, update, pause with a note, resume, delete", async () => {
    const created = (await data(CREATE, { input: good })).data as Record<string, unknown>;
    expect(created).toMatchObject({ name: "nightly-plan", pool: "web", overlap: "skip", catchupWindowSeconds: 60, paused: false, payload: { workspace: "x" } });
    const next = created.nextFireTimes as string[];
    expect(next).toHaveLength(5);
    expect(next.map((t) => new Date(t).getTime())).toEqual([...next.map((t) => new Date(t).getTime())].sort((a, b) => a - b));
    expect(new Date(next[0]!).getTime()).toBeGreaterThan(Date.now());
    expect((await data(CREATE, { input: good })).__typename).toBe("ConflictError");

    const updated = (await data(UPDATE, { name: "nightly-plan", input: { overlap: "buffer_one", jitterSeconds: 30 } })).data as Record<string, unknown>;
    expect(updated).toMatchObject({ overlap: "buffer_one", jitterSeconds: 30, timeZone: "Europe/Berlin" });
    const refused = await data(UPDATE, { name: "nightly-plan", input: { cron: "0 0 31 2 *" } });
    expect(refused).toMatchObject({ __typename: "ValidationError", field: "cron" });
    expect(((await data(ONE, { name: "nightly-plan" })) as unknown as { cron: string }).cron).toBe("0 30 2 * * *");

    const paused = (await data(PAUSE, { name: "nightly-plan", note: "waiting for the provider outage to end" })).data as Record<string, unknown>;
    expect(paused).toMatchObject({ paused: true, pausedBy: "bootstrap", pauseNote: "waiting for the provider outage to end", nextFireTimes: [] });
    expect(paused.pausedAt).toEqual(expect.any(String));
    const resumed = (await data(RESUME, { name: "nightly-plan" })).data as Record<string, unknown>;
    expect(resumed).toMatchObject({ paused: false, pauseNote: null });
    expect(resumed.nextFireTimes).toHaveLength(5);

    expect((await data(DELETE, { name: "nightly-plan" })).__typename).toBe("MutationDeleteScheduleSuccess");
    expect(await data(ONE, { name: "nightly-plan" })).toBeNull();
    expect((await data(DELETE, { name: "nightly-plan" })).__typename).toBe("NotFoundError");
  });

  it("trigger submits a task at once; backfill runs a past range once; history pages with a cursor and links each run to its task", async () => {
    await data(CREATE, { input: { ...good, name: "hourly", cron: "0 * * * *", timeZone: "UTC", overlap: "allow_all" } });
    const run = (await data(TRIGGER, { name: "hourly" })).data as Record<string, unknown> & { task: Record<string, unknown> };
    expect(run).toMatchObject({ trigger: "manual", status: "submitted", task: { status: "pending", pool: "web", type: "plan", payload: { workspace: "x" } } });

    const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const from = new Date(to.getTime() - 3 * 3_600_000);
    const backfill = (await data(BACKFILL, { name: "hourly", from: from.toISOString(), to: to.toISOString() })).data as Record<string, unknown>;
    expect(backfill).toMatchObject({ fireTimes: 4, submitted: 4, alreadyRecorded: 0 });
    const again = (await data(BACKFILL, { name: "hourly", from: from.toISOString(), to: to.toISOString(), overlap: "skip" })).data as Record<string, unknown>;
    expect(again).toMatchObject({ fireTimes: 4, submitted: 0, alreadyRecorded: 4 });
    const badRange = await data(BACKFILL, { name: "hourly", from: to.toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() });
    expect(badRange).toMatchObject({ __typename: "ValidationError", field: "to" });

    type Page = { edges: { cursor: string; node: { trigger: string; status: string; task: { id: string } | null } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    const first = (await data(RUNS, { schedule: "hourly", first: 3 })) as unknown as Page;
    expect(first.edges.map((e) => e.node.trigger)).toEqual(["manual", "backfill", "backfill"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await data(RUNS, { schedule: "hourly", first: 10, after: first.pageInfo.endCursor })) as unknown as Page;
    expect(rest.edges.map((e) => e.node.trigger)).toEqual(["backfill", "backfill"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const listed = (await data(LIST)) as unknown as { name: string; lastRun: { trigger: string; task: { id: string } } | null }[];
    expect(listed.find((s) => s.name === "hourly")?.lastRun).toMatchObject({ trigger: "manual", task: { id: run.task.id } });
    const taskIds = [...first.edges, ...rest.edges].map((e) => e.node.task!.id);
    expect(new Set(taskIds).size).toBe(5);
    expect(await api.services.prisma.task.count()).toBe(5);
  });

  it("the list of schedules costs by the number of schedules it returns", async () => {
    const costWith = async (n: number) => {
      const capped = await createTestApi({ backend, env: { MAX_QUERY_COST: "1" } });
      try {
        await capped.services.pools.createPool({ name: "web", minPods: 0, maxPods: 1, autoscale: false });
        for (let i = 0; i < n; i++) await createSchedule(capped.services.core, { name: `s${i}`, cron: "0 * * * *", pool: "web", taskType: "plan" });
        const res = await capped.gql("{ schedules { name } }");
        expect(res.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
        return res.errors?.[0]?.extensions?.cost as number;
      } finally {
        await capped.close();
      }
    };
    const [few, many] = [await costWith(1), await costWith(60)];
    expect(many).toBeGreaterThanOrEqual(5 * few);
  }, 120_000);

  it("the dispatch-schedules cron job submits the due fire times of every schedule", async () => {
    await data(CREATE, { input: { ...good, name: "every-second", cron: "* * * * * *", timeZone: "UTC", overlap: "allow_all" } });
    await new Promise((r) => setTimeout(r, 1300));
    const started = await data(`mutation { triggerCronJob(name: "dispatch-schedules") { __typename ... on MutationTriggerCronJobSuccess { data { id } } ${ERROR} } }`);
    expect(started.__typename).toBe("MutationTriggerCronJobSuccess");
    await api.services.cron.idle();
    const page = (await data(RUNS, { schedule: "every-second", first: 10 })) as unknown as { edges: { node: { status: string; trigger: string; submitDelayMs: number } }[] };
    expect(page.edges.length).toBeGreaterThanOrEqual(1);
    for (const { node } of page.edges) expect(node).toMatchObject({ status: "submitted", trigger: expect.stringMatching(/schedule|catch_up/) });
  });
});
