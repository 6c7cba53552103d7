import { expect, test } from "@playwright/test";
import { snapshot } from "./fixtures.ts";
import { ADMIN_TOKEN } from "./settings.ts";

test("an unauthenticated visit is sent to sign-in", async ({ page }) => {
  await page.goto("/cron");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fcron/);
  await expect(page.getByLabel("API token")).toBeVisible();
});

test("a wrong token is refused with a clear message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("API token").fill("not-a-real-token-000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toContainText("did not accept this token");
  await expect(page).toHaveURL(/\/sign-in/);
  await snapshot(page, "sign-in-refused");
});

test("the admin token signs in, shows the role, and signs out", async ({ page, context }) => {
  await page.goto("/sign-in");
  await snapshot(page, "sign-in");
  await page.getByLabel("API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/pools$/);
  await expect(page.getByTestId("whoami")).toHaveAttribute("data-role", "admin");
  await expect(page.getByRole("heading", { name: "Pools", level: 1 })).toBeVisible();

  // The token lives in an httpOnly cookie that page scripts cannot read.
  const cookie = (await context.cookies()).find((c) => c.name === "berth_token");
  expect(cookie?.httpOnly).toBe(true);
  expect(await page.evaluate(() => document.cookie)).not.toContain(ADMIN_TOKEN);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/pools");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a crafted next= cannot send the browser to another site after sign-in", async ({ page }) => {
  for (const next of ["/%09/evil.example/x", "/.%2F%2Fevil.example"]) {
    await page.context().clearCookies();
    await page.goto(`/sign-in?next=${next}`);
    await page.getByLabel("API token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/pools$/);
    expect(new URL(page.url()).host).not.toContain("evil.example");
  }
});
