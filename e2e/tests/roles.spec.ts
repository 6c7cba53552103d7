import { expect, snapshot, test, uniqueName } from "./fixtures.ts";

test("a viewer sees the console but no control it cannot use", async ({ signedIn: page, browser }) => {
  // An admin creates a viewer token; it is shown once.
  await page.goto("/tokens");
  await page.getByLabel("Name").fill(uniqueName("e2e-viewer"));
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByTestId("new-token-secret").inputValue();
  expect(secret.length).toBeGreaterThan(8);
  await snapshot(page, "tokens");

  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  try {
    await viewer.goto("/sign-in");
    await viewer.getByLabel("API token").fill(secret);
    await viewer.getByRole("button", { name: "Sign in" }).click();
    await expect(viewer).toHaveURL(/\/pools$/);
    await expect(viewer.getByTestId("whoami")).toHaveAttribute("data-role", "viewer");
    await expect(viewer.getByTestId("create-pool-form")).toHaveCount(0);
    await expect(viewer.getByRole("link", { name: "Tokens" })).toHaveCount(0);

    await viewer.goto("/cron");
    await expect(viewer.getByTestId("cron-job-row").first()).toBeVisible();
    await expect(viewer.getByTestId("trigger-job")).toHaveCount(0);

    await viewer.goto("/files");
    await expect(viewer.getByTestId("dropzone")).toHaveCount(0);
    await expect(viewer.getByTestId("delete-object")).toHaveCount(0);

    const firstPool = viewer.getByTestId("pool-card").first();
    await viewer.goto("/pools");
    if (await firstPool.count()) {
      await firstPool.getByRole("link").first().click();
      await expect(viewer.getByTestId("live-pool")).toBeVisible();
      await expect(viewer.getByTestId("update-pool-form")).toHaveCount(0);
      await expect(viewer.getByTestId("submit-task-form")).toHaveCount(0);
      await expect(viewer.getByTestId("approve-task")).toHaveCount(0);
      await snapshot(viewer, "pool-as-viewer");
    }
  } finally {
    await viewerContext.close();
  }
});
