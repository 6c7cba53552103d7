import { expectAccessible, screenshots } from "./a11y.ts";
import { expect, test } from "./fixtures.ts";

test("the cluster page lists this replica, alive, with its services and mode", async ({ signedIn: page }) => {
  await page.goto("/pools");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Cluster" }).click();
  await expect(page).toHaveURL(/\/cluster$/);

  const self = page.getByTestId("replica-row").filter({ hasText: "this one" });
  await expect(self).toHaveCount(1);
  await expect(self).toHaveAttribute("data-alive", "true");
  await expect(page.getByTestId("replica-count")).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId("cluster-mode")).toHaveText("local");
  await expect(page.locator('[data-testid="service"][data-service="database"]')).toHaveAttribute("data-status", "ok");
  await expect(page.locator('[data-testid="service"][data-service="storage"]')).toHaveAttribute("data-status", "ok");
  // The reconcile job's lock is held by this replica while a pass runs; at least the row lists locks or "none".
  await expect(self.locator("td").last()).not.toBeEmpty();

  await expectAccessible(page);
  await screenshots(page, "cluster");
});
