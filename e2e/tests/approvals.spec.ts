import { expect, test, uniqueName } from "./fixtures.ts";
import { expectAccessible, gql, screenshots, submitViaApi } from "./page-checks.ts";

const STATUS = `query($filter: TaskFilter) { tasksConnection(first: 200, filter: $filter) { edges { node { id status reviewVerdict reviewedBy reviewComment } } } }`;
type Node = { id: string; status: string; reviewVerdict: string | null; reviewedBy: string | null; reviewComment: string | null };

test("80 tasks on the demo pool, 20 of them plans: every plan is found and approved from the inbox", async ({ signedIn: page, request }) => {
  test.setTimeout(600_000);
  const run = uniqueName("inbox");
  const plans: string[] = [];
  for (let i = 0; i < 80; i++) {
    const plan = i % 4 === 0;
    const id = await submitViaApi(request, { pool: "demo", type: plan ? "plan_and_apply" : "apply", payload: { durationMs: 50 }, idempotencyKey: `${run}-${i}` });
    if (plan) plans.push(id);
  }
  const mine = async () =>
    (await gql<{ tasksConnection: { edges: { node: Node }[] } }>(request, STATUS, { filter: { search: run } })).tasksConnection.edges.map((e) => e.node);

  // Approve from the inbox until every plan of this run was approved. Plans hold their slots
  // while they wait, so the rest of the run gets through as they are approved.
  const approved = new Set<string>();
  let first = true;
  const until = Date.now() + 480_000;
  while (approved.size < plans.length && Date.now() < until) {
    await page.goto("/approvals");
    const card = page.locator('[data-testid="approval"]').filter({ hasText: run }).first();
    if ((await card.count()) === 0) {
      await page.waitForTimeout(1_000);
      continue;
    }
    if (first) {
      // The plan output is shown whole, with the reservation's time left, and the count is in the navigation.
      await expect(card.getByTestId("plan-output")).toBeVisible();
      await expect(card.getByTestId("time-left")).toContainText(/expires in|UTC/);
      await expect(page.getByTestId("nav-count-approvals")).toBeVisible();
      await expectAccessible(page);
      await screenshots(page, "approvals");
      first = false;
    }
    const id = (await card.getAttribute("data-task-id"))!;
    await card.getByTestId("review-comment").fill(`ok for ${run}`);
    await card.getByTestId("approve-plan").click();
    await expect(page.locator(`[data-testid="approval"][data-task-id="${id}"]`)).toHaveCount(0, { timeout: 30_000 });
    approved.add(id);
  }
  expect([...approved].sort()).toEqual([...plans].sort());

  // Every task of the run ends; the plans carry who approved them and the comment.
  await expect.poll(async () => (await mine()).filter((t) => t.status === "succeeded").length, { timeout: 180_000, intervals: [2_000] }).toBe(80);
  for (const task of (await mine()).filter((t) => plans.includes(t.id))) {
    expect(task).toMatchObject({ reviewVerdict: "approved", reviewedBy: "bootstrap", reviewComment: `ok for ${run}` });
  }
});

test("a plan rejected from the inbox ends without applying, and frees its slot", async ({ signedIn: page, request }) => {
  const run = uniqueName("reject");
  const id = await submitViaApi(request, { pool: "demo", type: "plan_and_apply", payload: { durationMs: 50 }, idempotencyKey: run });
  await page.goto("/approvals");
  const card = page.locator(`[data-testid="approval"][data-task-id="${id}"]`);
  await expect(async () => {
    await page.reload();
    await expect(card).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 120_000 });
  await card.getByTestId("review-comment").fill("not today");
  await card.getByTestId("reject-plan").click();
  await expect(card).toHaveCount(0, { timeout: 30_000 });
  const task = (await gql<{ task: Node & { failureReason: string; slot: unknown } }>(request, `query($id: ID!) { task(id: $id) { id status reviewVerdict reviewedBy reviewComment failureReason slot { index } } }`, { id })).task;
  expect(task).toMatchObject({ status: "cancelled", failureReason: "rejected", reviewVerdict: "rejected", reviewComment: "not today", slot: null });
});
