import { createPool, expect, test, uniqueName } from "./fixtures.ts";
import { expectAccessible, screenshots } from "./page-checks.ts";

test("the audit log shows what this test did, who did it and how it ended, with filters", async ({ signedIn: page }) => {
  const pool = uniqueName("e2e-audit");
  await createPool(page, pool, { minPods: 0, maxPods: 1, autoscale: false });
  // The same name again: refused, and the refusal is recorded too.
  await page.goto("/pools");
  const form = page.getByTestId("create-pool-form");
  await form.getByLabel("Name").fill(pool);
  await form.getByRole("button", { name: "Create pool" }).click();
  await expect(form.getByRole("alert")).toBeVisible();

  await page.goto(`/audit?target=${pool}`);
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute("data-outcome", "CONFLICT");
  await expect(rows.nth(1)).toHaveAttribute("data-outcome", "ok");
  await expect(rows.nth(1)).toContainText("createPool");
  await expect(rows.nth(1)).toContainText("bootstrap");
  await expect(rows.nth(1)).toContainText("admin");

  // Filters live in the form and the URL.
  await page.getByTestId("audit-outcome").selectOption("error");
  await page.getByTestId("audit-apply").click();
  await expect(page).toHaveURL(/outcome=error/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-outcome", "CONFLICT");

  await page.goto("/audit");
  await expect(page.getByRole("link", { name: "Audit" })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "audit");
});
