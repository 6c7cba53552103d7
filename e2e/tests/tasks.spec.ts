import { expect, test, uniqueName } from "./fixtures.ts";
import { expectAccessible, gql, screenshots, submitViaApi } from "./page-checks.ts";

test("the task list reaches every one of 80 tasks by cursor, filters, searches and counts per status", async ({ signedIn: page, request }) => {
  test.setTimeout(300_000);
  // A pool with no pods: its tasks stay pending, so the list is exactly what was submitted.
  const pool = uniqueName("e2e-tasks");
  await gql(request, `mutation($name: String!) { createPool(input: { name: $name, minPods: 0, maxPods: 1, autoscale: false }) { __typename } }`, { name: pool });
  const run = uniqueName("run");
  const ids: string[] = [];
  for (let i = 0; i < 80; i++) {
    ids.push(await submitViaApi(request, { pool, type: i % 4 === 0 ? "plan_and_apply" : "apply", payload: { durationMs: 20 }, idempotencyKey: `${run}-${i}` }));
  }
  const cancelled = ids.slice(0, 3);
  for (const id of cancelled) await gql(request, `mutation($id: ID!) { cancelTask(id: $id) { __typename } }`, { id });

  // Page through the pool's tasks from the Tasks page, filtered by pool.
  await page.goto(`/tasks?pool=${pool}`);
  await expect(page.getByTestId("count-all")).toContainText("80");
  await expect(page.getByTestId("count-pending")).toHaveAttribute("data-count", "77");
  await expect(page.getByTestId("count-cancelled")).toHaveAttribute("data-count", "3");
  const seen = new Set<string>();
  for (let p = 0; p < 5; p++) {
    const rows = page.getByTestId("task-row");
    await expect(rows.first()).toBeVisible();
    for (const id of await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-task-id")!))) seen.add(id);
    const older = page.getByTestId("tasks-older");
    if ((await older.count()) === 0) break;
    await older.click();
    await expect(page).toHaveURL(/after=/);
  }
  expect(seen.size).toBe(80);
  expect([...seen].sort()).toEqual([...ids].sort());
  // And back to newer pages by cursor.
  await page.getByTestId("tasks-newer").click();
  await expect(page).toHaveURL(/before=/);
  await expect(page.getByTestId("task-row")).toHaveCount(50);

  // A status chip filters (and the URL says so); the type filter narrows further.
  await page.goto(`/tasks?pool=${pool}`);
  await page.getByTestId("count-cancelled").click();
  await expect(page).toHaveURL(/status=cancelled/);
  await expect(page.getByTestId("task-row")).toHaveCount(3);
  await page.goto(`/tasks?pool=${pool}`);
  await page.getByTestId("filter-type").fill("plan_and_apply");
  await page.getByTestId("apply-filters").click();
  await expect(page).toHaveURL(/type=plan_and_apply/);
  await expect(page.getByTestId("task-row")).toHaveCount(20);
  await expect(page.getByTestId("count-all")).toContainText("20");

  // Search by idempotency key and by id; each row links to the task's page.
  await page.goto("/tasks");
  await page.getByTestId("task-search").fill(`${run}-42`);
  await page.getByTestId("apply-filters").click();
  await expect(page.getByTestId("task-row")).toHaveCount(1);
  await expect(page.getByTestId("task-row")).toHaveAttribute("data-task-id", ids[42]!);
  await expect(page.getByTestId("task-link")).toHaveAttribute("href", `/tasks/${ids[42]}`);
  await page.goto(`/tasks?q=${ids[7]}`);
  await expect(page.getByTestId("task-row")).toHaveAttribute("data-task-id", ids[7]!);

  // The pool's own page uses the same list, and keeps its state in its own URL.
  await page.goto(`/pools/${pool}?status=cancelled`);
  await expect(page.getByTestId("task-row")).toHaveCount(3);
  await expect(page.getByTestId("filter-pool")).toHaveCount(0);

  await page.goto(`/tasks?pool=${pool}`);
  await expectAccessible(page);
  await screenshots(page, "tasks");

  for (const id of ids) await gql(request, `mutation($id: ID!) { cancelTask(id: $id) { __typename } }`, { id }).catch(() => undefined);
  await gql(request, `mutation($name: String!) { deletePool(name: $name) { __typename } }`, { name: pool });
});
