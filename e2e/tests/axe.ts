import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";

/** Fails on serious or critical accessibility violations (axe-core's WCAG 2 A/AA rules). */
export async function expectAccessible(page: Page, exclude: string[] = []): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]);
  for (const selector of exclude) builder = builder.exclude(selector);
  const { violations } = await builder.analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`)).toEqual([]);
}

/** Screenshots for people to look at, outside the repository (BERTH_E2E_SHOTS, default /tmp/berth-shots). */
export async function shoot(page: Page, name: string): Promise<void> {
  const dir = process.env.BERTH_E2E_SHOTS ?? "/tmp/berth-shots";
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** The two widths every page is checked at: desktop and a phone. */
export const VIEWPORTS = [
  { name: "wide", width: 1280, height: 860 },
  { name: "narrow", width: 390, height: 844 },
] as const;
