import { createPool, expect, snapshot, submitTask, test, uniqueName } from "./fixtures.ts";
import { ADMIN_TOKEN, API_URL } from "./settings.ts";

/** A GraphQL call to the API itself, as an agent or script would make it. */
async function gql<T>(query: string, variables: Record<string, unknown>, token = ADMIN_TOKEN): Promise<T> {
  const response = await fetch(`${API_URL}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (!body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const APPEND = `mutation($input: AppendTaskLogInput!) {
  appendTaskLog(input: $input) { __typename ... on MutationAppendTaskLogSuccess { data { nextOffset } } ... on Error { message } }
}`;

test("the task page shows a task's log live, in colour, and keeps it after the task ends", async ({ signedIn: page }) => {
  const pool = uniqueName("e2e-logs");
  await createPool(page, pool, { minPods: 1, maxPods: 1, slotsPerPod: 2, autoscale: false });
  await expect(page.getByTestId("pod-row").first()).toHaveAttribute("data-phase", "Ready", { timeout: 90_000 });
  // The pool's agent runs the task for 20 s; this test writes its log, as the agent's pod would.
  const taskId = await submitTask(page, "plan", 20_000);
  const row = page.locator(`[data-testid="task-row"][data-task-id="${taskId}"]`);
  await expect(row).toHaveAttribute("data-status", "running", { timeout: 30_000 });
  const { task } = await gql<{ task: { podName: string } }>(`query($id: ID!) { task(id: $id) { podName } }`, { id: taskId });
  const created = await gql<{ createApiToken: { data: { token: string } } }>(
    `mutation($name: String!, $pool: String!) { createApiToken(name: $name, role: "agent", pool: $pool) { ... on MutationCreateApiTokenSuccess { data { token } } } }`,
    { name: `${pool} log writer`, pool },
  );
  const agentToken = created.createApiToken.data.token;
  let offset = 0;
  const append = async (data: string) => {
    const answer = await gql<{ appendTaskLog: { __typename: string; data?: { nextOffset: number }; message?: string } }>(
      APPEND,
      { input: { taskId, pod: task.podName, offset, data } },
      agentToken,
    );
    expect(answer.appendTaskLog.__typename, answer.appendTaskLog.message).toBe("MutationAppendTaskLogSuccess");
    offset = answer.appendTaskLog.data!.nextOffset;
  };

  await append("\u001b[32mplan: reading configuration\u001b[0m\n");
  await row.getByTestId("task-link").click();
  await expect(page).toHaveURL(new RegExp(`/tasks/${taskId}$`));
  const log = page.getByRole("log", { name: "Task log" });
  await expect(log).toContainText("plan: reading configuration");
  await expect(log.locator(".ansi-green-fg")).toHaveText("plan: reading configuration");
  await expect(page.getByTestId("task-timeline")).toContainText("Submitted");
  await expect(page.getByTestId("task-timeline")).toContainText("Placed");

  // Lines appear while the page is open, without a reload.
  for (const line of ["plan: 3 to add, 0 to change", "plan: done"]) {
    const sent = Date.now();
    await append(`${line}\n`);
    await expect(log).toContainText(line, { timeout: 5_000 });
    expect(Date.now() - sent).toBeLessThan(5_000);
  }
  await expect(page.getByTestId("log-status")).toHaveText("Live");
  await snapshot(page, "task-page-live");

  // The agent ends the task: the page says so and the log stays.
  await expect(page.getByTestId("task-status")).toHaveText("succeeded", { timeout: 60_000 });
  await expect(page.getByTestId("log-status")).toHaveText("Complete");
  await page.reload();
  await expect(log).toContainText("plan: reading configuration\nplan: 3 to add, 0 to change\nplan: done");
  await expect(page.getByTestId("log-status")).toHaveText("Complete");
  await expect(page.getByTestId("task-timeline")).toContainText("Succeeded");
  const download = page.waitForEvent("download");
  await page.getByTestId("log-download").click();
  expect((await download).suggestedFilename()).toBe(`task-${taskId}.log`);
  await snapshot(page, "task-page-ended");
});
