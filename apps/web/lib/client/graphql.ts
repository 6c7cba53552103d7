import { createClient, type Client } from "graphql-sse";
import { CONSOLE_HEADER } from "../proxy-headers";

// Browser side: every request goes through the console's own proxy, which adds the token.

export const PROXY_PATH = "/api/graphql";

export class ProxyRequestError extends Error {
  override readonly name = "ProxyRequestError";
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function sendToSignIn(): never {
  window.location.assign("/sign-in?expired=1");
  throw new ProxyRequestError("Signed out.", 401);
}

export async function clientGraphQL<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(PROXY_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", [CONSOLE_HEADER]: "1" },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) sendToSignIn();
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: { message: string }[] } | null;
  if (!body) throw new ProxyRequestError(`The console's API proxy answered ${response.status}.`, response.status);
  if (body.errors?.length) throw new ProxyRequestError(body.errors.map((e) => e.message).join("; "), response.status);
  if (body.data == null) throw new ProxyRequestError("The API returned no data.", response.status);
  return body.data;
}

let sseClient: Client | undefined;

function sse(): Client {
  sseClient ??= createClient({
    url: PROXY_PATH,
    headers: { [CONSOLE_HEADER]: "1" },
    credentials: "same-origin",
    // A console left open should survive API restarts; graphql-sse backs off between attempts.
    retryAttempts: 1_000,
    retry: (attempt) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000) + Math.random() * 300)),
  });
  return sseClient;
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error?(error: unknown): void;
  /** Called when a broken stream is being re-established. */
  reconnecting?(): void;
  /** Called once the event stream is open (before any event arrives). */
  opened?(): void;
  /** Called after a broken stream is re-established, so callers can refetch what they missed. */
  reconnected?(): void;
}

/** Subscribes over SSE through the proxy; returns the function that ends the subscription. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
  return sse().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.data) handlers.next(result.data as T);
        else if (result.errors?.length) handlers.error?.(new Error(result.errors.map((e) => e.message).join("; ")));
      },
      error: (error) => handlers.error?.(error),
      complete: () => undefined,
    },
    {
      connecting: (reconnecting) => {
        if (reconnecting) handlers.reconnecting?.();
      },
      connected: (reconnected) => {
        if (reconnected) handlers.reconnected?.();
        else handlers.opened?.();
      },
    },
  );
}
