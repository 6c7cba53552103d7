// The demo pool's real agent, end to end: its local pods run @berth/agent, whose plan_and_apply
// type runs packages/agent/demo/plan.mjs, then (after approval) apply.mjs in the same working
// directory. Nothing here writes a log by hand: every line on the page was printed by a command.
import { existsSync, rmSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, snapshot, submitTask, test } from "./fixtures.ts";

interface Arrival {
  line: string;
  /** When the command printed it (the `at <epoch ms>` the demo plan ends its lines with). */
  printed: number;
  /** When it first showed in the page's log. */
  seen: number;
}

/**
 * Runs in the page from its first byte: notes when each line stamped `at <epoch ms>` first shows in
 * the task log. The browser and the agent run on one machine, so both clocks are the same clock.
 */
function recordArrivals(): void {
  const w = window as unknown as { __arrivals: Arrival[] };
  w.__arrivals = [];
  const known = new Set<string>();
  const scan = () => {
    const log = document.querySelector('[data-testid="task-log"]');
    if (!log) return;
    const now = Date.now();
    for (const line of (log.textContent ?? "").split("\n")) {
      const stamp = / at (\d{13})$/.exec(line);
      if (!stamp || known.has(line)) continue;
      known.add(line);
      w.__arrivals.push({ line, printed: Number(stamp[1]), seen: now });
    }
  };
  new MutationObserver(scan).observe(document, { childList: true, subtree: true, characterData: true });
}

const arrivals = (page: Page) => page.evaluate(() => (window as unknown as { __arrivals: Arrival[] }).__arrivals);

/** Submits a plan_and_apply task through the demo pool's form and opens its task page. */
async function openNewPlan(page: Page, durationMs: number): Promise<string> {
  await page.goto("/pools/demo");
  await expect(page.getByTestId("pod-row").first()).toHaveAttribute("data-phase", "Ready", { timeout: 90_000 });
  const id = await submitTask(page, "plan_and_apply", durationMs);
  await page.goto(`/tasks/${id}`);
  return id;
}

test("a plan's lines reach the task page live, and the approved apply reads its plan from the same workdir", async ({ signedIn: page }) => {
  await page.addInitScript(recordArrivals);
  // Five progress lines, 1.2 s apart.
  const id = await openNewPlan(page, 6_000);
  const log = page.getByRole("log", { name: "Task log" });
  await expect(page.getByTestId("log-status")).toHaveText("Live");
  const liveFrom = Date.now();

  // Lines printed once the page is live: each shows within a second of being printed.
  await expect.poll(async () => (await arrivals(page)).filter((a) => a.printed >= liveFrom).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  await snapshot(page, "agent-run-plan-live");
  await expect(page.getByTestId("task-status")).toHaveText("apply_pending", { timeout: 30_000 });
  const all = await arrivals(page);
  const live = all.filter((a) => a.printed >= liveFrom);
  const delays = live.map((a) => a.seen - a.printed);
  console.info(
    `agent-run: ${live.length} of ${all.length} stamped lines printed while the page was live; first live line ` +
      `"${live[0]!.line}" showed ${delays[0]} ms after it was printed; all: ${delays.join(", ")} ms`,
  );
  expect(delays[0]!).toBeGreaterThanOrEqual(0);
  expect(delays[0]!).toBeLessThan(1_000);
  // The later lines are reported above; on a busy machine one may be late without the tail being broken.
  expect(Math.max(...delays)).toBeLessThan(3_000);

  // The plan said where it ran and what it wrote.
  await expect(log).toContainText("Plan: 5 to add, 0 to change, 0 to destroy.");
  const text = (await log.textContent()) ?? "";
  const dir = /planning task \S+ on (\S+), slot \d+, in (\S+) at \d+/.exec(text);
  expect(dir, text).not.toBeNull();
  const [, pod, workdir] = dir!;
  expect(text).toContain(`wrote ${workdir}/plan.json`);

  // Approve on the page: the apply runs in the same directory, on the same pod, and reads the plan's file.
  await page.getByTestId("approve-task").click();
  await expect(log).toContainText(`read ${workdir}/plan.json, written by the plan of task ${id} on ${pod}`, { timeout: 30_000 });
  await expect(log).toContainText(`applying 5 change(s) from plan.json (planned on ${pod}) on ${pod}`);
  await expect(page.getByTestId("task-status")).toHaveText("succeeded", { timeout: 30_000 });
  await expect(log).toContainText("Apply complete! Resources: 5 added, 0 changed, 0 destroyed.");
  await expect(page.getByTestId("log-status")).toHaveText("Complete");
  await expect(page.getByTestId("task-timeline")).toContainText("Approved");
  await expect(page.getByTestId("task-timeline")).toContainText("Applied");
  await snapshot(page, "agent-run-applied");
});

test("an apply whose plan workdir is gone from its pod fails with plan_workdir_missing instead of running without its plan", async ({ signedIn: page }) => {
  await openNewPlan(page, 500);
  const log = page.getByRole("log", { name: "Task log" });
  await expect(page.getByTestId("task-status")).toHaveText("apply_pending", { timeout: 60_000 });
  await expect(log).toContainText("Plan: 5 to add");
  const workdir = /wrote (\S+)\/plan\.json/.exec((await log.textContent()) ?? "")?.[1];
  expect(workdir).toBeTruthy();
  expect(existsSync(`${workdir}/plan.json`)).toBe(true);

  // The pod that would run the apply no longer has the plan's directory, as when the pod was
  // replaced or the apply lands where the plan never ran.
  rmSync(workdir!, { recursive: true, force: true });
  await page.getByTestId("approve-task").click();
  await expect(page.getByTestId("task-status")).toHaveText("failed", { timeout: 30_000 });
  await expect(page.getByTestId("task-timeline")).toContainText("plan_workdir_missing");
  await expect(page.getByText(/plan workdir missing on this pod/).first()).toBeVisible();
  await expect(log).toContainText("[berth] plan workdir missing on this pod");
  // The apply never ran: nothing read or applied.
  await expect(log).not.toContainText("applying ");
  await expect(log).not.toContainText("Apply complete!");
  expect(existsSync(workdir!)).toBe(false);
  await snapshot(page, "agent-run-workdir-missing");
});
