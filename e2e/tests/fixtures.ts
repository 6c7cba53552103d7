import { test as base, expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, WEB_URL } from "./settings.ts";

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "artifacts");

/** Saves a full-page screenshot under e2e/artifacts/ for people to look at. */
export async function snapshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** A name no earlier run used, so a reused server never collides. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export const test = base.extend<{ signedIn: Page }>({
  // A page already signed in as the bootstrap admin (the sign-in form itself is covered in sign-in.spec.ts).
  signedIn: async ({ page, context }, use) => {
    await context.addCookies([{ name: "berth_token", value: ADMIN_TOKEN, url: WEB_URL, httpOnly: true, sameSite: "Lax" }]);
    await use(page);
  },
});

export { expect };

export interface PoolOptions {
  minPods?: number;
  maxPods?: number;
  slotsPerPod?: number;
  autoscale?: boolean;
}

/** Creates a pool through the overview's form and waits for its page. */
export async function createPool(page: Page, name: string, options: PoolOptions = {}): Promise<void> {
  await page.goto("/pools");
  const form = page.getByTestId("create-pool-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Slots per pod").fill(String(options.slotsPerPod ?? 2));
  await form.getByLabel("Min pods").fill(String(options.minPods ?? 1));
  await form.getByLabel("Max pods").fill(String(options.maxPods ?? 3));
  const autoscale = form.getByLabel("Autoscale");
  if ((options.autoscale ?? true) !== (await autoscale.isChecked())) await autoscale.click();
  await form.getByRole("button", { name: "Create pool" }).click();
  await expect(page).toHaveURL(new RegExp(`/pools/${name}$`));
  await expect(page.getByTestId("pool-title")).toHaveText(name);
}

/** Marks the document so a later check can prove the page was never reloaded. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __berthMark?: number }).__berthMark = 1;
  });
}

export async function documentIsUnchanged(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __berthMark?: number }).__berthMark === 1);
}

export async function submitTask(page: Page, type: "plan" | "apply" | "plan_and_apply", durationMs: number): Promise<string> {
  const form = page.getByTestId("submit-task-form");
  await form.getByTestId("task-type").selectOption(type);
  await form.getByTestId("task-duration").fill(String(durationMs));
  await form.getByRole("button", { name: "Submit task" }).click();
  const message = page.getByTestId("submit-task-message");
  await expect(message).toContainText("Submitted");
  const id = /task (\S+) \(/.exec((await message.textContent()) ?? "")?.[1];
  if (!id) throw new Error(`no task id in "${await message.textContent()}"`);
  return id;
}
