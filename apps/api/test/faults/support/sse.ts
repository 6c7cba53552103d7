import { contractOperation, readSse } from "../../support/contract.js";
import type { Endpoint } from "./graphql.js";

export interface Received<T> {
  at: number;
  data: T;
}

/**
 * Keeps one subscription of the contract open over SSE for the whole test and records every
 * `next` payload with the time it arrived. One stream, never reopened: events that arrive after
 * a fault prove the server side of the subscription recovered by itself.
 */
export async function collectSubscription<T>(endpoint: Endpoint, token: string, name: string, variables: Record<string, unknown> = {}) {
  const abort = new AbortController();
  const response = await fetch(`${endpoint.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: contractOperation(name), variables }),
    signal: abort.signal,
  });
  if (!response.ok) throw new Error(`${name}: subscription refused with ${response.status}`);
  const received: Received<T>[] = [];
  let ended: string | null = null;
  const reading = (async () => {
    try {
      for await (const frame of readSse(response)) {
        if (frame.event === "next") received.push({ at: Date.now(), data: (frame.data as { data: T }).data });
        if (frame.event === "complete") ended = "completed";
      }
      ended ??= "stream ended";
    } catch (error) {
      ended ??= String(error);
    }
  })();
  return {
    received,
    /** Why the stream stopped, or null while it is open. */
    ended: () => ended,
    async waitFor(match: (data: T, at: number) => boolean, withinMs: number): Promise<Received<T>> {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const hit = received.find((r) => match(r.data, r.at));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`${name}: no matching event within ${withinMs} ms (stream: ${ended ?? "open"}, ${received.length} events)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}
