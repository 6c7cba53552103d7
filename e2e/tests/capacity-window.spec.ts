import { expect, test, uniqueName } from "./fixtures.ts";
import { ADMIN_TOKEN, API_URL } from "./settings.ts";

test("the pool page shows the capacity window in effect and the recycling limits", async ({ signedIn: page, request }) => {
  const name = uniqueName("e2e-window");
  // A window that is always in effect: every minute, for two minutes.
  const response = await request.post(`${API_URL}/graphql`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    data: {
      query: `mutation($input: CreatePoolInput!) { createPool(input: $input) { __typename } }`,
      variables: {
        input: { name, minPods: 0, maxPods: 2, maxTasksPerPod: 5, capacityWindows: [{ cron: "* * * * *", timeZone: "Europe/Berlin", durationSeconds: 120, blockScaleDown: true }] },
      },
    },
  });
  expect((await response.json()).data.createPool.__typename).toBe("MutationCreatePoolSuccess");

  await page.goto(`/pools/${name}`);
  await expect(page.getByTestId("active-capacity-window")).toContainText("Capacity window 1 in effect until");
  await expect(page.getByTestId("active-capacity-window")).toContainText("no scale-down");
  await expect(page.getByTestId("capacity-windows")).toContainText("* * * * * Europe/Berlin");
  await expect(page.getByTestId("pod-recycling")).toHaveText("after 5 task(s)");
});
