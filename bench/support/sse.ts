// A GraphQL subscription over Server-Sent Events (POST /graphql, Accept: text/event-stream) on
// plain node:http, so that a thousand of them cost little on the client: each event's arrival
// is timed the moment its bytes are read, and parsed only when asked.
import { request, type Agent, type ClientRequest } from "node:http";
import { performance } from "node:perf_hooks";

export interface SseSubscription {
  /** performance.now() at which each event arrived, in order. */
  readonly arrivals: number[];
  /** The `data` of each event, kept only when `keepData` was set. */
  readonly data: string[];
  close(): void;
}

export interface SubscribeOptions {
  url: string;
  token: string;
  query: string;
  variables: Record<string, unknown>;
  agent: Agent;
  keepData?: boolean;
}

/** Resolves once the response headers arrived (status 200, event stream); rejects otherwise. */
export function subscribe(options: SubscribeOptions): Promise<SseSubscription> {
  const body = JSON.stringify({ query: options.query, variables: options.variables });
  return new Promise((resolve, reject) => {
    const arrivals: number[] = [];
    const data: string[] = [];
    let buffered = "";
    const req: ClientRequest = request(
      `${options.url}/graphql`,
      {
        method: "POST",
        agent: options.agent,
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          authorization: `Bearer ${options.token}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        if (res.statusCode !== 200 || !String(res.headers["content-type"]).startsWith("text/event-stream")) {
          res.resume();
          reject(new Error(`subscription refused: ${res.statusCode} ${res.headers["content-type"]}`));
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const at = performance.now();
          buffered += chunk;
          let end: number;
          while ((end = buffered.indexOf("\n\n")) >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            // Keep-alive comments (":") and the closing `complete` event are not events of the subscription.
            if (block.startsWith(":") || block.includes("event: complete")) continue;
            arrivals.push(at);
            if (options.keepData) data.push(block.slice(block.indexOf("data:") + 5).trim());
          }
        });
        res.on("error", () => {});
        resolve({ arrivals, data, close: () => req.destroy() });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
