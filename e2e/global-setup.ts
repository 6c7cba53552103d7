import { API_URL } from "./tests/settings.ts";

const DEADLINE_MS = 180_000;

/** The console answers before the API may: wait until the API says it is healthy, for a bounded time. */
export default async function globalSetup(): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  let last = "no answer";
  while (Date.now() < until) {
    try {
      const response = await fetch(`${API_URL}/healthz`);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`The API at ${API_URL} was not healthy within ${DEADLINE_MS / 1000} s (${last}).`);
}
