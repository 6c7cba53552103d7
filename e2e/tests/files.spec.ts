import { readFile } from "node:fs/promises";
import { expect, snapshot, test, uniqueName } from "./fixtures.ts";
import { ADMIN_TOKEN, API_URL } from "./settings.ts";

// A 2×2 red PNG, so the preview has real image bytes to decode.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==",
  "base64",
);

test("upload, list, preview, download and delete files", async ({ signedIn: page }) => {
  const folder = `${uniqueName("e2e-files")}/`;
  const text = `hello from berth e2e ${folder}\nsecond line\n`;
  await page.goto(`/files?prefix=${encodeURIComponent(folder)}`);
  await expect(page.getByTestId("breadcrumbs")).toContainText(folder.slice(0, -1));
  await expect(page.getByTestId("files-empty")).toBeVisible();

  // File picker.
  await page.getByTestId("file-input").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from(text) });
  await expect(page.getByTestId("upload-item").first()).toHaveAttribute("data-state", "done");
  const textRow = page.locator(`[data-testid="object-row"][data-key="${folder}notes.txt"]`);
  await expect(textRow).toBeVisible();

  // Drag and drop.
  await page.getByTestId("dropzone").evaluate((zone, base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "dot.png", { type: "image/png" }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, PNG.toString("base64"));
  const imageRow = page.locator(`[data-testid="object-row"][data-key="${folder}dot.png"]`);
  await expect(imageRow).toBeVisible();
  await snapshot(page, "files");

  // Text preview.
  await textRow.getByTestId("preview-object").click();
  await expect(page.getByTestId("preview-text")).toContainText("hello from berth e2e");

  // Image preview: the browser decoded the streamed bytes.
  await imageRow.getByTestId("preview-object").click();
  const image = page.getByTestId("preview-image");
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await snapshot(page, "files-preview");
  await page.setViewportSize({ width: 390, height: 844 });
  await snapshot(page, "files-narrow");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Download returns the uploaded bytes.
  const downloading = page.waitForEvent("download");
  await textRow.getByTestId("download-object").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("notes.txt");
  expect(await readFile((await download.path())!, "utf8")).toBe(text);

  // Share link is a presigned URL for this key.
  await textRow.getByTestId("share-object").click();
  await expect(textRow.getByTestId("share-link")).toHaveValue(/notes\.txt/);
  await page.getByTestId("share-dialog").getByRole("button", { name: "Close" }).click();

  // The folder shows up one level up.
  await page.goto("/files");
  await expect(page.locator(`[data-testid="folder-row"][data-prefix="${folder}"]`)).toBeVisible();
  await page.locator(`[data-testid="folder-row"][data-prefix="${folder}"]`).getByRole("link").click();
  await expect(textRow).toBeVisible();

  // Delete asks first, then removes the row.
  await textRow.getByTestId("delete-object").click();
  await textRow.getByTestId("delete-object-confirm").click();
  await expect(textRow).toHaveCount(0);
  await expect(imageRow).toBeVisible();
});

test("a folder larger than a page is browsed page by page, each file once", async ({ signedIn: page, request }) => {
  const folder = `${uniqueName("e2e-pages")}/`;
  const names = Array.from({ length: 105 }, (_, i) => `f${String(i).padStart(3, "0")}.txt`);
  // Straight to the API's streamed upload route: 105 files through the page would only be slow.
  for (const name of names) {
    const put = await request.put(`${API_URL}/files/${encodeURIComponent(folder + name)}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "text/plain" },
      data: name,
    });
    expect(put.ok()).toBe(true);
  }
  await page.goto(`/files?prefix=${encodeURIComponent(folder)}`);
  const rows = page.getByTestId("object-row");
  await expect(rows).toHaveCount(100);
  const first = await rows.evaluateAll((r) => r.map((e) => e.getAttribute("data-key")));
  await page.getByTestId("files-next").click();
  await expect(rows).toHaveCount(5);
  const second = await rows.evaluateAll((r) => r.map((e) => e.getAttribute("data-key")));
  expect([...first, ...second]).toEqual(names.map((n) => folder + n));
  await expect(page.getByTestId("files-next")).toHaveCount(0);
  await expect(page).toHaveURL(/after=/);
  await snapshot(page, "files-page-2");
});
