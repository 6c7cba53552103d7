import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";

/** No serious or critical axe violation on the page as it is now (WCAG 2.1 A/AA rules). */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`);
  expect(serious, serious.join("\n")).toEqual([]);
}

/**
 * Full-page screenshots at 1280×860 and at 390 px wide, outside the repository (SCREENSHOT_DIR,
 * default the system's temporary folder), for a person to look at; the viewport is restored.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR ?? path.join(process.env.TMPDIR ?? "/tmp", "berth-screenshots");
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  for (const [label, size] of [["wide", { width: 1280, height: 860 }], ["narrow", { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(400);
    await page.screenshot({ path: path.join(dir, `${name}-${label}.png`), fullPage: true });
    expect(await overflowing(page), `${name} at ${size.width} px: elements past the right edge`).toEqual([]);
  }
  if (before) await page.setViewportSize(before);
}

/** Elements reaching past the viewport's right edge (outside scrolling frames): what a narrow screen cuts off. */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrolls = (el: Element | null): boolean => {
      for (let e = el; e && e !== document.body; e = e.parentElement) {
        const o = getComputedStyle(e).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
      }
      return false;
    };
    const out: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 1 || scrolls(el.parentElement)) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || (style.position === "absolute" && box.width <= 1)) continue;
      out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}.${[...el.classList].join(".")} right=${Math.round(box.right)}`);
    }
    return out.slice(0, 8);
  });
}
