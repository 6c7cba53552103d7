import { expect, snapshot, test, uniqueName } from "./fixtures.ts";

test("a schedule created in the console shows its next fire times, fires, links to its task, and pauses with a note", async ({ signedIn: page }) => {
  const name = uniqueName("every-5s");
  await page.goto("/schedules");
  const form = page.getByTestId("schedule-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Pool").selectOption("demo");
  await form.getByLabel("Task type").fill("plan");

  // A bad expression is named before anything is saved.
  const cron = form.getByTestId("schedule-cron");
  await cron.fill("*/61 * * * * *");
  await expect(page.getByTestId("schedule-preview-error")).toContainText("cron");

  // The live description and the next five fire times, in the chosen time zone.
  await cron.fill("*/5 * * * * *");
  await form.getByTestId("schedule-time-zone").fill("Europe/Berlin");
  await expect(page.getByTestId("schedule-description")).toContainText("Every 5 seconds");
  const next = page.getByTestId("next-fire-time");
  await expect(next).toHaveCount(5);
  await expect(next.first()).toContainText(/GMT\+[12]/);
  const times = await next.evaluateAll((items) => items.map((i) => Date.parse(i.getAttribute("data-at") ?? "")));
  expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([5000, 5000, 5000, 5000]);
  await form.getByLabel("Payload (JSON)").fill('{"durationMs": 500}');
  await snapshot(page, "schedules-new");
  await form.getByTestId("schedule-save").click();

  // Its page: next fire times, then a run that links to the task it submitted.
  await expect(page).toHaveURL(new RegExp(`/schedules/${name}$`));
  await expect(page.getByTestId("schedule-title")).toContainText(name);
  await expect(page.getByTestId("schedule-next").locator("div")).toHaveCount(5);
  const link = page.getByTestId("schedule-runs").getByTestId("run-task-link").first();
  await expect(link).toBeVisible({ timeout: 30_000 });
  const taskId = (await link.getAttribute("data-task-id"))!;
  await expect(page.getByTestId("schedule-run-row").first()).toHaveAttribute("data-status", "submitted");
  await snapshot(page, "schedule-detail");
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/tasks/${taskId}$`));
  await expect(page.getByTestId("task-status")).toBeVisible();

  // Paused with a note: it says who and why, and has no next fire time.
  await page.goto(`/schedules/${name}`);
  await page.getByTestId("pause-note").fill("waiting for the provider outage to end");
  await page.getByTestId("pause-schedule").click();
  await expect(page.getByTestId("paused-badge")).toBeVisible();
  await expect(page.getByTestId("pause-note-shown")).toContainText("waiting for the provider outage to end");
  await expect(page.getByTestId("pause-note-shown")).toContainText("bootstrap");
  await expect(page.getByTestId("schedule-next")).toHaveText("none");

  // The list shows it paused; Berth's own jobs sit collapsed in their own section.
  await page.goto("/schedules");
  const row = page.locator(`[data-testid="schedule-row"][data-schedule="${name}"]`);
  await expect(row).toHaveAttribute("data-paused", "true");
  await expect(row.getByTestId("pause-note-shown")).toContainText("provider outage");
  const system = page.getByTestId("system-jobs");
  await expect(system).not.toHaveAttribute("open", "");
  await expect(system.locator('[data-testid="cron-job-row"][data-job="reconcile-pools"]')).toBeHidden();
  await system.locator("summary").click();
  await expect(system.locator('[data-testid="cron-job-row"][data-job="reconcile-pools"]')).toBeVisible();
  await expect(system.locator('[data-testid="cron-job-row"][data-job="dispatch-schedules"]')).toBeVisible();
  await snapshot(page, "schedules");
});
