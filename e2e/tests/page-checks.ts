import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_TOKEN, API_URL } from "./settings.ts";

/** Fails on any serious or critical accessibility violation of the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const severe = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(severe.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

const shots = process.env.BERTH_E2E_SCREENSHOTS ?? path.join(tmpdir(), "berth-e2e-screens");

/** Full-page screenshots at 1280×860 and 390 px wide, outside the repository, for a person to look at. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  const before = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.screenshot({ path: path.join(shots, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, `${name}-390.png`), fullPage: true });
  // Nothing may stick out sideways at the narrow width (tables scroll inside their frame).
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  if (before) await page.setViewportSize(before);
}

/** A GraphQL request to the API as the bootstrap admin; fails the test on any error. */
export async function gql<T = Record<string, unknown>>(request: APIRequestContext, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await request.post(`${API_URL}/graphql`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    data: { query, variables },
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data as T;
}

const SUBMIT = `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { __typename ... on MutationSubmitTaskSuccess { data { id } } ... on Error { message } } }`;

/** Submits a task through the API; returns its id. */
export async function submitViaApi(request: APIRequestContext, input: { pool: string; type: string; payload?: unknown; idempotencyKey?: string }): Promise<string> {
  const data = await gql<{ submitTask: { __typename: string; data?: { id: string }; message?: string } }>(request, SUBMIT, { input });
  expect(data.submitTask.__typename, data.submitTask.message).toBe("MutationSubmitTaskSuccess");
  return data.submitTask.data!.id;
}
