import { createPool, expect, snapshot, test, uniqueName } from "./fixtures.ts";

test("changing min and max pods is followed by the pod count", async ({ signedIn: page }) => {
  const name = uniqueName("e2e-scale");
  await createPool(page, name, { minPods: 1, maxPods: 3, slotsPerPod: 1, autoscale: true });
  const pods = page.getByTestId("pod-row");
  await expect(pods).toHaveCount(1, { timeout: 90_000 });

  const limits = page.getByTestId("update-pool-form");
  await limits.getByTestId("min-pods").fill("2");
  await limits.getByTestId("max-pods").fill("3");
  await limits.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("update-pool-message")).toContainText("Saved: 2–3 pods");
  await expect(pods).toHaveCount(2, { timeout: 90_000 });
  await expect(page.getByTestId("pod-count")).toHaveText("2");
  await expect(page.getByTestId("scaling-timeline")).toBeVisible();
  await snapshot(page, "pool-scaled-up");

  await limits.getByTestId("min-pods").fill("1");
  await limits.getByTestId("max-pods").fill("1");
  await limits.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("update-pool-message")).toContainText("Saved: 1–1 pods");

  // Idle pods may go at once: manual scaling to the new maximum removes the extra one.
  const scale = page.getByTestId("scale-pool-form");
  await scale.getByTestId("scale-pods").fill("1");
  await scale.getByRole("button", { name: "Scale" }).click();
  await expect(page.getByTestId("scale-pool-message")).toContainText("Now 1 pod ");
  await expect(pods).toHaveCount(1, { timeout: 90_000 });
  await expect(page.getByTestId("pod-count")).toHaveText("1");
  await snapshot(page, "pool-scaled-down");
});
