import { expect, test, uniqueName } from "./fixtures.ts";
import { ADMIN_TOKEN, API_URL } from "./settings.ts";
import { VIEWPORTS, expectAccessible, shoot } from "./axe.ts";

async function put(key: string, body: string): Promise<void> {
  const path = key.split("/").map(encodeURIComponent).join("/");
  const response = await fetch(`${API_URL}/files/${path}`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body });
  expect(response.ok).toBe(true);
}

test("folders, rename, search, sort, share expiry and bulk deletes in the file browser", async ({ signedIn: page }) => {
  const root = `${uniqueName("e2e-manage")}/`;
  await put(`${root}alpha.txt`, "a");
  await put(`${root}beta.txt`, "bbbbbbbbbb");
  await put(`${root}gamma.log`, "ggggg");
  await page.goto(`/files?prefix=${encodeURIComponent(root)}`);
  const row = (key: string) => page.locator(`[data-testid="object-row"][data-key="${root}${key}"]`);
  await expect(row("alpha.txt")).toBeVisible();

  // A new folder appears, with an icon rather than a glyph, and its marker is not listed.
  await page.getByTestId("new-folder-name").fill("reports");
  await page.getByTestId("new-folder-create").click();
  const folderRow = page.locator(`[data-testid="folder-row"][data-prefix="${root}reports/"]`);
  await expect(folderRow).toBeVisible();
  await expect(folderRow.locator("svg.folder-icon")).toBeVisible();
  await expect(page.getByTestId("new-folder-name")).toHaveValue("");
  // A refused name stays in the box.
  await page.getByTestId("new-folder-name").fill("../up");
  await page.getByTestId("new-folder-create").click();
  await expect(page.getByTestId("new-folder-message")).toContainText("invalid storage key");
  await expect(page.getByTestId("new-folder-name")).toHaveValue("../up");

  // Sorting by size, largest first, then back.
  await page.getByTestId("sort-size").click();
  await expect(page).toHaveURL(/sort=size$/);
  await expect(page.getByTestId("object-row").first()).toHaveAttribute("data-key", `${root}alpha.txt`);
  await page.getByTestId("sort-size").click();
  await expect(page).toHaveURL(/sort=size&dir=desc/);
  await expect(page.getByTestId("object-row").first()).toHaveAttribute("data-key", `${root}beta.txt`);

  // Search within the folder.
  await page.getByTestId("files-search-input").fill(".txt");
  await page.getByTestId("files-search-input").press("Enter");
  await expect(page).toHaveURL(/q=\.txt/);
  await expect(page.getByTestId("object-row")).toHaveCount(2);
  await page.goto(`/files?prefix=${encodeURIComponent(root)}`);

  // Rename into the new folder: a refused target keeps what was typed, a good one moves it.
  await row("gamma.log").getByTestId("rename-object").click();
  await row("gamma.log").getByTestId("rename-input").fill(`${root}alpha.txt`);
  await row("gamma.log").getByTestId("rename-confirm").click();
  await expect(row("gamma.log").getByTestId("rename-error")).toContainText("already stored");
  await expect(row("gamma.log").getByTestId("rename-input")).toHaveValue(`${root}alpha.txt`);
  await row("gamma.log").getByTestId("rename-input").fill(`${root}reports/gamma.log`);
  await row("gamma.log").getByTestId("rename-confirm").click();
  await expect(row("gamma.log")).toHaveCount(0);

  // A share link with a chosen expiry opens in a dialog; the table keeps its width.
  const tableWidth = await page.getByTestId("files-table").evaluate((t) => t.getBoundingClientRect().width);
  await row("alpha.txt").getByTestId("share-expiry").selectOption({ label: "15 min" });
  await row("alpha.txt").getByTestId("share-object").click();
  const dialog = page.getByTestId("share-dialog").filter({ visible: true });
  await expect(dialog.getByTestId("share-link")).toHaveValue(/alpha\.txt/);
  await expect(dialog).toContainText("15 min");
  const link = new URL(await dialog.getByTestId("share-link").inputValue());
  const lifetime = Number(link.searchParams.get("expires")) - Date.now() / 1000;
  expect(lifetime).toBeGreaterThan(14 * 60);
  expect(lifetime).toBeLessThanOrEqual(15 * 60);
  expect(await page.getByTestId("files-table").evaluate((t) => t.getBoundingClientRect().width)).toBe(tableWidth);
  await dialog.getByRole("button", { name: "Close" }).click();

  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    await shoot(page, `files-manage-${viewport.name}`);
    await expectAccessible(page);
  }
  await page.setViewportSize({ width: 1280, height: 860 });

  // Several files at once, with a count and a confirmation.
  await row("alpha.txt").getByTestId("select-object").check();
  await row("beta.txt").getByTestId("select-object").check();
  await page.getByTestId("delete-selected").click();
  await expect(page.getByTestId("bulk-bar")).toContainText("Delete 2 files for good?");
  await page.getByTestId("delete-selected-confirm").click();
  await expect(page.getByTestId("files-message")).toContainText("Deleted 2 objects");
  await expect(page.getByTestId("object-row")).toHaveCount(0);

  // A folder is deleted with everything in it, after saying how many objects that is.
  await folderRow.getByTestId("delete-folder").click();
  await expect(folderRow.getByTestId("folder-delete-count")).toContainText("Delete 2 objects");
  await folderRow.getByTestId("delete-folder-confirm").click();
  await expect(folderRow).toHaveCount(0);
});
