import { expect, test as plain } from "@playwright/test";
import { createPool, test, uniqueName } from "./fixtures.ts";

plain("a refused token stays in the box, and its message goes once the token is edited", async ({ page }) => {
  await page.goto("/sign-in");
  const input = page.getByLabel("API token");
  await input.fill("not-a-real-token-000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toBeVisible();
  await expect(input).toHaveValue("not-a-real-token-000000");
  await input.fill("not-a-real-token-00000");
  await expect(page.getByTestId("sign-in-error")).toHaveCount(0);
});

test("scaling: a refused pod count stays typed; the submit form keeps what was typed meanwhile", async ({ signedIn: page }) => {
  const pool = uniqueName("e2e-forms");
  await createPool(page, pool, { minPods: 0, maxPods: 2, autoscale: false });
  const scale = page.getByTestId("scale-pool-form");
  await scale.getByTestId("scale-pods").fill("9");
  await scale.getByRole("button", { name: "Scale" }).click();
  await expect(page.getByTestId("scale-pool-message")).toContainText("maxPods");
  await expect(scale.getByTestId("scale-pods")).toHaveValue("9");
  // Editing the count makes the old refusal go: it no longer describes what is in the box.
  await scale.getByTestId("scale-pods").fill("1");
  await expect(page.getByTestId("scale-pool-message")).toHaveCount(0);
  await scale.getByRole("button", { name: "Scale" }).click();
  await expect(page.getByTestId("scale-pool-message")).toContainText("Now 1 pod");
  // The timeline says in words what happened, and who asked.
  await page.reload();
  const manual = page.locator('[data-testid="scaling-event"][data-kind="manual_scale"]').first();
  await expect(manual).toContainText("Scaled by hand");
  await expect(manual.getByTestId("scaling-actor")).toContainText("by bootstrap");

  const submit = page.getByTestId("submit-task-form");
  await submit.getByTestId("task-type").selectOption("plan");
  await submit.getByTestId("task-duration").fill("1200");
  await submit.getByRole("button", { name: "Submit task" }).click();
  await expect(page.getByTestId("submit-task-message")).toBeVisible();
  await expect(submit.getByTestId("task-type")).toHaveValue("plan");
  await expect(submit.getByTestId("task-duration")).toHaveValue("1200");
  // "Submitted … (running)" no longer says what the task is doing a little later: it goes.
  await expect(page.getByTestId("submit-task-message")).toHaveCount(0, { timeout: 20_000 });
});
