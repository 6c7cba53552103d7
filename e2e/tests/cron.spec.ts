import { expect, snapshot, test } from "./fixtures.ts";

test("triggering a cron job adds its run to the history", async ({ signedIn: page }) => {
  await page.goto("/cron");
  const jobRow = page.getByTestId("cron-job-row").first();
  await expect(jobRow).toBeVisible();
  const job = (await jobRow.getAttribute("data-job"))!;

  await page.getByTestId("filter-job").selectOption(job);
  await expect(page).toHaveURL(new RegExp(`[?&]job=${encodeURIComponent(job)}`));

  await page.locator(`[data-testid="cron-job-row"][data-job="${job}"]`).getByTestId("trigger-job").click();
  const started = page.locator(`[data-testid="cron-job-row"][data-job="${job}"]`).getByRole("status");
  await expect(started).toContainText("Started run");
  const runId = /Started run (\S+)/.exec((await started.textContent()) ?? "")?.[1];
  expect(runId).toBeTruthy();

  const run = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(run).toBeVisible();
  await expect(run).toHaveAttribute("data-job", job);
  await expect(run).toHaveAttribute("data-status", /running|succeeded|failed/);
  // Every row shown belongs to the filtered job.
  for (const rowJob of await page.getByTestId("run-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-job")))) {
    expect(rowJob).toBe(job);
  }
  await expect(run).toHaveAttribute("data-status", /succeeded|failed/, { timeout: 60_000 });
  await expect(page.getByTestId("duration-chart")).toBeVisible();
  await snapshot(page, "cron");

  await page.goto("/locks");
  await expect(page.getByTestId("locks-status")).toContainText("Refreshes every");
  await snapshot(page, "locks");
});
