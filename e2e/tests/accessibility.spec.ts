import { expect, test, uniqueName } from "./fixtures.ts";
import { VIEWPORTS, expectAccessible, shoot } from "./axe.ts";

test("tokens: a new token can be copied; state and actions are separate columns; no serious accessibility violations", async ({ signedIn: page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/tokens");
  const name = uniqueName("e2e-copy");
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByTestId("new-token-secret").inputValue();
  expect(secret.length).toBeGreaterThan(20);
  await page.getByTestId("copy-token").click();
  await expect(page.getByText("Copied.")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  const headings = await page.getByTestId("tokens-table").locator("thead th").allInnerTexts();
  expect(headings.map((h) => h.toLowerCase())).toEqual(expect.arrayContaining(["state", "actions"]));
  const row = page.getByTestId("token-row").filter({ hasText: name });
  await expect(row.getByTestId("token-state")).toHaveText("active");
  await expect(row.getByTestId("token-state").getByRole("button")).toHaveCount(0);

  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    await shoot(page, `tokens-${viewport.name}`);
    await expectAccessible(page);
  }
});

test("cron: no serious accessibility violations at either width", async ({ signedIn: page }) => {
  await page.goto("/cron");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    await shoot(page, `cron-${viewport.name}`);
    await expectAccessible(page);
  }
});
