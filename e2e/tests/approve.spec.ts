import { createPool, expect, snapshot, submitTask, test, uniqueName } from "./fixtures.ts";

test("a plan_and_apply task waits reserved for approval, then applies on the same slot", async ({ signedIn: page }) => {
  const name = uniqueName("e2e-approve");
  await createPool(page, name, { minPods: 1, maxPods: 1, slotsPerPod: 2, autoscale: false });
  await expect(page.getByTestId("pod-row")).toHaveCount(1, { timeout: 90_000 });
  await expect(page.getByTestId("pod-row").first()).toHaveAttribute("data-phase", "Ready", { timeout: 90_000 });

  const taskId = await submitTask(page, "plan_and_apply", 1_500);
  const row = page.locator(`[data-testid="task-row"][data-task-id="${taskId}"]`);
  await expect(row).toHaveAttribute("data-status", "apply_pending", { timeout: 60_000 });
  const reserved = page.locator(`[data-testid="slot-cell"][data-state="reserved"][data-task-id="${taskId}"]`);
  await expect(reserved).toHaveCount(1);
  const pod = await reserved.getAttribute("data-pod");
  const index = await reserved.getAttribute("data-index");
  await snapshot(page, "task-apply-pending");

  await row.getByTestId("approve-task").click();
  // Apply runs on the same pod and slot the plan held.
  await expect(page.locator(`[data-testid="slot-cell"][data-pod="${pod}"][data-index="${index}"]`)).toHaveAttribute("data-state", "running", { timeout: 30_000 });
  await expect(row).toHaveAttribute("data-status", "succeeded", { timeout: 60_000 });
  await expect(page.locator(`[data-testid="slot-cell"][data-pod="${pod}"][data-index="${index}"]`)).toHaveAttribute("data-state", "idle");
  await snapshot(page, "task-approved");

  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "pool-narrow");
});
