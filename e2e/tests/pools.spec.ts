import { createPool, documentIsUnchanged, expect, markDocument, snapshot, submitTask, test, uniqueName } from "./fixtures.ts";

test("the create-pool form shows the API's validation message", async ({ signedIn: page }) => {
  await page.goto("/pools");
  const form = page.getByTestId("create-pool-form");
  await form.getByLabel("Name").fill("Not A Valid_Name");
  await form.getByRole("button", { name: "Create pool" }).click();
  await expect(page.getByTestId("create-pool-message")).toBeVisible();
  await expect(page).toHaveURL(/\/pools$/);
  // What was typed survives the refusal.
  await expect(form.getByLabel("Name")).toHaveValue("Not A Valid_Name");
});

test("a new pool's pod comes up, and a task turns a slot busy then idle without a reload", async ({ signedIn: page }) => {
  const name = uniqueName("e2e-live");
  await createPool(page, name, { minPods: 1, maxPods: 2, slotsPerPod: 2, autoscale: false });
  await markDocument(page);

  const pods = page.getByTestId("pod-row");
  await expect(pods).toHaveCount(1, { timeout: 90_000 });
  await expect(pods.first()).toHaveAttribute("data-phase", "Ready", { timeout: 90_000 });
  const cells = page.getByTestId("slot-cell");
  await expect(cells).toHaveCount(2);
  await expect(page.locator('[data-testid="slot-cell"][data-state="idle"]')).toHaveCount(2);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connection", "live");
  await snapshot(page, "pool-idle");

  const taskId = await submitTask(page, "plan", 6_000);
  const busy = page.locator(`[data-testid="slot-cell"][data-state="running"][data-task-id="${taskId}"]`);
  await expect(busy).toHaveCount(1, { timeout: 60_000 });
  await expect(busy).toContainText("running");
  await snapshot(page, "pool-running");

  await busy.click();
  await expect(page.getByTestId("panel-task")).toHaveText(taskId);

  await expect(page.locator('[data-testid="slot-cell"][data-state="idle"]')).toHaveCount(2, { timeout: 60_000 });
  await expect(page.locator(`[data-testid="task-row"][data-task-id="${taskId}"]`)).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  expect(await documentIsUnchanged(page)).toBe(true);

  await page.goto("/pools");
  const card = page.locator(`[data-testid="pool-card"][data-pool="${name}"]`);
  await expect(card).toBeVisible();
  await expect(card.getByTestId("pool-pods")).toContainText("1");
  await snapshot(page, "pools-overview");

  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "pools-overview-narrow");
});
