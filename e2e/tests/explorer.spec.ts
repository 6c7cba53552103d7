import { expect, test } from "./fixtures.ts";
import { expectAccessible, shoot } from "./axe.ts";

test("the bundled explorer runs a query through the console's session and reads the schema", async ({ signedIn: page }) => {
  const outside: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol.startsWith("http")) outside.push(request.url());
  });
  await page.goto("/explorer");
  const explorer = page.getByTestId("explorer");
  await expect(explorer.locator(".graphiql-container")).toBeVisible();
  // The default document is `{ pools { name } }`; run it with the toolbar's button.
  await expect(explorer.locator(".graphiql-query-editor")).toContainText("pools");
  await explorer.locator(".graphiql-execute-button").click();
  const response = explorer.locator(".graphiql-response");
  await expect(response).toContainText('"pools"');
  await expect(response).toContainText('"name"');
  await expect(response).not.toContainText("errors");

  // Introspection worked: the documentation lists the schema's query fields.
  await explorer.getByRole("button", { name: /documentation/i }).click();
  await expect(explorer.locator(".graphiql-doc-explorer")).toContainText("Query");
  expect(outside).toEqual([]);

  // A subscription streams over SSE through the same proxy (cron runs are reported every second).
  await page.goto(`/explorer?query=${encodeURIComponent("subscription Runs { cronRunUpdated { __typename } }")}`);
  await expect(explorer.locator(".graphiql-query-editor")).toContainText("cronRunUpdated");
  await explorer.locator(".graphiql-execute-button").click();
  await expect(explorer.locator(".graphiql-response")).toContainText("CronRunUpdated");
  await explorer.locator(".graphiql-execute-button").click(); // stops it
  await page.goto(`/explorer?query=${encodeURIComponent("{ pools { name } }")}`);
  await expect(explorer.locator(".graphiql-query-editor")).toContainText("pools");
  await explorer.locator(".graphiql-execute-button").click();
  await expect(response).toContainText('"pools"');

  await page.setViewportSize({ width: 1280, height: 860 });
  await shoot(page, "explorer-wide");
  // GraphiQL's own editor widgets are the library's; the page around them is checked.
  await expectAccessible(page, [".graphiql-container"]);
  // On a phone the documentation is closed again to make room; nothing may stick out sideways.
  await explorer.getByRole("button", { name: /documentation/i }).click();
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, "explorer-narrow");
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
