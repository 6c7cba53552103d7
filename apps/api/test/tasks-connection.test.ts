// The task list across pools as a cursor connection (every task reachable, filters, search,
// counts per status) and plan review: approve or reject with a comment, kept on the task.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitTask } from "@berth/core/tasks";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const backend = backends.includes("postgres") ? "postgres" : "pglite";

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter) {
  tasksConnection(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id type status pool podName idempotencyKey } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    countsByStatus { status count }
  } }`;
const ERROR = "... on Error { __typename message } ... on ValidationError { field }";
const TASK = "id status reviewedBy reviewedAt reviewVerdict reviewComment failureReason slot { state }";
const APPROVE = `mutation($id: ID!, $comment: String) { approveTask(id: $id, comment: $comment) { __typename ... on MutationApproveTaskSuccess { data { ${TASK} } } ${ERROR} } }`;
const REJECT = `mutation($id: ID!, $comment: String) { rejectTask(id: $id, comment: $comment) { __typename ... on MutationRejectTaskSuccess { data { ${TASK} } } ${ERROR} } }`;
const REPORT = `mutation($input: ReportTaskInput!) { reportTask(input: $input) { __typename } }`;

type Node = { id: string; type: string; status: string; pool: string; podName: string | null; idempotencyKey: string | null };
type Connection = {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  countsByStatus: { status: string; count: number }[];
};

describe(`tasksConnection and plan review on ${backend}`, () => {
  let api: TestApi;
  let runtime: FakeRuntime;
  const ids: string[] = [];

  beforeAll(async () => {
    runtime = new FakeRuntime();
    api = await createTestApi({ backend, runtime });
    await api.services.pools.createPool({ name: "alpha", minPods: 0, maxPods: 2, autoscale: false });
    await api.services.pools.createPool({ name: "beta", minPods: 0, maxPods: 2, autoscale: false });
    // No pods yet: every task stays pending, in submission order.
    for (let i = 0; i < 85; i++) {
      const task = await submitTask(api.services.core, { pool: i % 3 === 0 ? "beta" : "alpha", type: i % 2 ? "plan" : "apply", idempotencyKey: `deploy-${i}` });
      ids.push(task.id);
    }
    // Ten tasks submitted in the same millisecond: the order must still be total (ties by id).
    const same = new Date("2026-01-01T00:00:00.000Z");
    await api.services.prisma.task.updateMany({ where: { id: { in: ids.slice(20, 30) } }, data: { createdAt: same } });
    await api.services.prisma.task.updateMany({ where: { id: { in: ids.slice(0, 5) } }, data: { status: "failed" } });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const page = async (variables: Record<string, unknown>, token?: string) => {
    const result = await api.gql<{ tasksConnection: Connection }>(PAGE, variables, token);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data!.tasksConnection;
  };

  it("pages forward over all 85 tasks, 20 at a time, each exactly once, newest first; and back again", async () => {
    const seen: string[] = [];
    const cursors: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const p: Connection = await page({ first: 20, after });
      seen.push(...p.edges.map((e) => e.node.id));
      cursors.push(p.pageInfo.startCursor!);
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(85);
    expect(new Set(seen)).toEqual(new Set(ids));
    const rows = await api.services.prisma.task.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } });
    expect(seen).toEqual(rows.map((r) => r.id));

    // Backward from the last page's start gives the page before it.
    const back = await page({ last: 20, before: cursors.at(-1) });
    expect(back.edges.map((e) => e.node.id)).toEqual(seen.slice(60, 80));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it("filters by pool, status, type and submission time, and counts per status ignore only the status filter", async () => {
    const beta = await page({ first: 200, filter: { pool: "beta" } });
    expect(beta.edges).toHaveLength(29);
    expect(beta.edges.every((e) => e.node.pool === "beta")).toBe(true);
    const failed = await page({ first: 200, filter: { status: ["failed"] } });
    expect(failed.edges.map((e) => e.node.id).sort()).toEqual(ids.slice(0, 5).sort());
    expect(failed.countsByStatus.find((c) => c.status === "failed")?.count).toBe(5);
    expect(failed.countsByStatus.find((c) => c.status === "pending")?.count).toBe(80);
    expect(failed.countsByStatus).toHaveLength(8);
    const betaPlans = await page({ first: 200, filter: { pool: "beta", type: "plan" } });
    expect(betaPlans.edges.every((e) => e.node.type === "plan" && e.node.pool === "beta")).toBe(true);
    expect(betaPlans.edges).toHaveLength(ids.filter((_, i) => i % 3 === 0 && i % 2 === 1).length);
    const old = await page({ first: 200, filter: { submittedBefore: "2026-01-02T00:00:00Z" } });
    expect(old.edges.map((e) => e.node.id).sort()).toEqual(ids.slice(20, 30).sort());
    const recent = await page({ first: 200, filter: { submittedAfter: "2026-01-02T00:00:00Z" } });
    expect(recent.edges).toHaveLength(75);
  });

  it("search finds a task by id or by (part of) its idempotency key", async () => {
    const byId = await page({ first: 10, filter: { search: ids[42] } });
    expect(byId.edges.map((e) => e.node.id)).toEqual([ids[42]]);
    const byKey = await page({ first: 10, filter: { search: "DEPLOY-77" } });
    expect(byKey.edges.map((e) => e.node.idempotencyKey)).toEqual(["deploy-77"]);
    const partial = await page({ first: 100, filter: { search: "deploy-8" } });
    expect(partial.edges.map((e) => e.node.idempotencyKey).sort()).toEqual(["deploy-8", "deploy-80", "deploy-81", "deploy-82", "deploy-83", "deploy-84"]);
  });

  it("refuses a page size past 200, a bad cursor and an unknown status, naming the argument", async () => {
    for (const [variables, field] of [
      [{ first: 201 }, "first"],
      [{ first: 10, after: "bogus" }, "after"],
      [{ first: 10, filter: { status: ["exploded"] } }, "status"],
    ] as const) {
      const result = await api.gql(PAGE, variables);
      expect(result.errors?.[0]?.message).toContain(field);
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("the old tasks query still answers", async () => {
    const result = await api.gql(`{ tasks(pool: "alpha", first: 5) { id } }`);
    expect(result.data?.tasks).toHaveLength(5);
  });

  describe("plan review", () => {
    let agent: string;
    const plans: string[] = [];
    beforeAll(async () => {
      await api.services.prisma.task.updateMany({ where: { status: "pending" }, data: { status: "cancelled", finishedAt: new Date() } });
      agent = await api.tokenFor("agent", { pool: "alpha" });
      await api.gql(`mutation { scalePool(name: "alpha", pods: 1) { __typename } }`);
      for (const pod of runtime.pods.keys()) await api.gql(`mutation($pod: String!) { registerAgent(pod: $pod) { __typename } }`, { pod }, agent);
      for (let i = 0; i < 3; i++) {
        const task = await submitTask(api.services.core, { pool: "alpha", type: "plan_and_apply" });
        expect(task.status).toBe("running");
        await api.gql(REPORT, { input: { taskId: task.id, status: "apply_pending", output: { plan: `+${i}` } } }, agent);
        plans.push(task.id);
      }
    }, STARTUP_TIMEOUT_MS);

    it("lists the plans waiting, oldest first, and counts them", async () => {
      const result = await api.gql(`{ approvals { id status output slot { state reservedUntil } } approvalsCount }`);
      expect(result.data?.approvals.map((t: { id: string }) => t.id)).toEqual(plans);
      expect(result.data?.approvals[0].slot).toMatchObject({ state: "reserved", reservedUntil: expect.any(String) });
      expect(result.data?.approvalsCount).toBe(3);
    });

    it("approve with a comment keeps who, when, the verdict and the comment", async () => {
      const operator = await api.tokenFor("operator", { name: "alice" });
      const result = await api.gql(APPROVE, { id: plans[0], comment: "looks right" }, operator);
      expect(result.data?.approveTask).toMatchObject({
        __typename: "MutationApproveTaskSuccess",
        data: { status: "applying", reviewedBy: "alice", reviewVerdict: "approved", reviewComment: "looks right", reviewedAt: expect.any(String), slot: { state: "running" } },
      });
      // Approving without a comment, as the contract's ApproveTask does, still works.
      const plain = await api.gql(APPROVE, { id: plans[1] });
      expect(plain.data?.approveTask.data).toMatchObject({ status: "applying", reviewVerdict: "approved", reviewComment: null });
    });

    it("reject ends the plan without applying, frees its reservation and keeps the reviewer; a long comment is refused and changes nothing", async () => {
      const tooLong = await api.gql(REJECT, { id: plans[2], comment: "x".repeat(2001) });
      expect(tooLong.data?.rejectTask).toMatchObject({ __typename: "ValidationError", field: "comment" });
      expect(await api.services.prisma.task.findUniqueOrThrow({ where: { id: plans[2] } })).toMatchObject({ status: "apply_pending", reviewedBy: null });

      const operator = await api.tokenFor("operator", { name: "bob" });
      const result = await api.gql(REJECT, { id: plans[2], comment: "wrong region" }, operator);
      expect(result.data?.rejectTask).toMatchObject({
        __typename: "MutationRejectTaskSuccess",
        data: { status: "cancelled", failureReason: "rejected", reviewedBy: "bob", reviewVerdict: "rejected", reviewComment: "wrong region", slot: null },
      });
      const slots = await api.services.prisma.slot.findMany({ where: { state: "reserved" } });
      expect(slots).toEqual([]);
      // An approved (applying) task cannot be rejected.
      const late = await api.gql(REJECT, { id: plans[0] });
      expect(late.data?.rejectTask.__typename).toBe("ConflictError");
      expect((await api.gql(`{ approvalsCount }`)).data?.approvalsCount).toBe(0);
    });

    it("a viewer may not reject", async () => {
      const viewer = await api.tokenFor("viewer");
      const result = await api.gql(REJECT, { id: plans[1] }, viewer);
      expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    });
  });
});
