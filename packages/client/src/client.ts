import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { print } from "graphql";
import { randomUUID } from "node:crypto";
import { BerthApiError, BerthLogGapError, BerthMutationError, type GraphQLErrorBody } from "./errors.js";
import {
  ClientAppendTaskLogDocument,
  ClientApproveTaskDocument,
  ClientCancelTaskDocument,
  ClientMeDocument,
  ClientPoolDocument,
  ClientPoolsDocument,
  ClientSlotChangedDocument,
  ClientSubmitTaskDocument,
  ClientTaskDocument,
  ClientTaskLogDocument,
  ClientTasksDocument,
  type AppendTaskLogInput,
  type ClientPoolQuery,
  type ClientSlotChangedSubscription,
  type ClientTaskFragment,
  type ClientTasksQueryVariables,
  type SubmitTaskInput,
} from "./generated/graphql.js";

export interface BerthClientOptions {
  /** The API's base URL, e.g. http://127.0.0.1:4000. */
  url: string;
  /** An API token (`Authorization: Bearer`). */
  token: string;
  fetch?: typeof fetch;
  /** Attempts of a request that may be repeated (queries, submitTask with its idempotency key), the first included. */
  attempts?: number;
  /** First wait before a retry or a reconnect; doubled each time, up to `maxDelayMs`. */
  retryDelayMs?: number;
  maxDelayMs?: number;
}

export interface SubscriptionHandlers<T> {
  /** Each event's data. */
  next(data: T): void;
  /**
   * Called once the stream is (re)established, and again after every reconnect or overflow:
   * events in between are lost, so read the current state here. Events are only for latency.
   */
  resync?(): Promise<void> | void;
}

export interface LiveSubscription {
  close(): void;
  /** Resolves when closed by `close()`; rejects with BerthApiError when the server ended it for good (token revoked, forbidden). */
  done: Promise<void>;
}

/** Codes that end a subscription for good: reconnecting would be refused the same way. */
const FATAL = new Set(["UNAUTHENTICATED", "TOKEN_REVOKED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COSTLY", "QUERY_TOO_DEEP"]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A network failure (no answer) rather than an answer. */
const isTransportError = (error: unknown) => error instanceof TypeError || (error as Error)?.name === "AbortError" || (error as NodeJS.ErrnoException)?.code !== undefined;

/**
 * A typed client of Berth's GraphQL API for other services and agents. Queries retry on lost
 * connections, 429 (after Retry-After) and 5xx; submitTask retries too, safely, with one
 * idempotency key for all its attempts; subscriptions reconnect by themselves and ask their
 * owner to resync after every gap.
 */
export class BerthClient {
  private readonly fetch: typeof fetch;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly endpoint: string;

  constructor(private readonly options: BerthClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.endpoint = `${options.url.replace(/\/+$/, "")}/graphql`;
  }

  private delay(attempt: number, retryAfterSeconds?: number): number {
    if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, this.maxDelayMs * 6);
    const base = Math.min(this.retryDelayMs * 2 ** attempt, this.maxDelayMs);
    return base / 2 + Math.random() * (base / 2);
  }

  private headers(accept: string): Record<string, string> {
    return { "content-type": "application/json", accept, authorization: `Bearer ${this.options.token}` };
  }

  /** One operation, once: its data, or BerthApiError (GraphQL errors, HTTP refusals). */
  private async send<TResult>(query: string, variables: unknown): Promise<TResult> {
    const response = await this.fetch(this.endpoint, {
      method: "POST",
      headers: this.headers("application/graphql-response+json, application/json"),
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => null)) as { data?: TResult | null; errors?: GraphQLErrorBody[] } | null;
    const retryAfter = response.headers.get("retry-after");
    if (!body || (body.errors?.length ?? 0) > 0 || body.data == null) {
      throw new BerthApiError(response.status, body?.errors ?? [{ message: `the API answered ${response.status} without data` }], retryAfter ? Number(retryAfter) : undefined);
    }
    return body.data;
  }

  /** Sends with retries while the failure is worth another attempt (lost connection, 429, 5xx). */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const retriable = isTransportError(error) || (error instanceof BerthApiError && (error.status === 429 || error.status >= 500));
        if (!retriable || n + 1 >= this.attempts) throw error;
        await sleep(this.delay(n, error instanceof BerthApiError ? error.retryAfterSeconds : undefined));
      }
    }
  }

  /** Any operation with its generated types. Queries are retried; pass `retry: false` for a mutation that is not idempotent. */
  request<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, options: { retry?: boolean } = {}): Promise<TResult> {
    const query = print(document);
    const isQuery = document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation === "query");
    return (options.retry ?? isQuery) ? this.withRetries(() => this.send<TResult>(query, variables)) : this.send<TResult>(query, variables);
  }

  async me() {
    return (await this.request(ClientMeDocument, {})).me;
  }

  async pools() {
    return (await this.request(ClientPoolsDocument, {})).pools;
  }

  async pool(name: string) {
    return (await this.request(ClientPoolDocument, { name })).pool;
  }

  async task(id: string) {
    return (await this.request(ClientTaskDocument, { id })).task;
  }

  async tasks(filter: ClientTasksQueryVariables = {}) {
    return (await this.request(ClientTasksDocument, filter)).tasks;
  }

  /**
   * Submits a task. Every attempt carries the same idempotency key (the one given, or one made
   * here), so a retry after a lost answer returns the task the first attempt created rather
   * than a second one. Typed failures (an unknown pool, a bad payload) throw BerthMutationError.
   */
  async submitTask(input: SubmitTaskInput): Promise<ClientTaskFragment> {
    const withKey = { ...input, idempotencyKey: input.idempotencyKey ?? `client-${randomUUID()}` };
    const { submitTask } = await this.request(ClientSubmitTaskDocument, { input: withKey }, { retry: true });
    if (submitTask.__typename === "MutationSubmitTaskSuccess") return submitTask.data;
    throw new BerthMutationError(submitTask.__typename, submitTask.message, "field" in submitTask ? submitTask.field : null);
  }

  async approveTask(id: string): Promise<ClientTaskFragment> {
    const { approveTask } = await this.request(ClientApproveTaskDocument, { id }, { retry: false });
    if (approveTask.__typename === "MutationApproveTaskSuccess") return approveTask.data;
    throw new BerthMutationError(approveTask.__typename, approveTask.message, null);
  }

  async cancelTask(id: string): Promise<ClientTaskFragment> {
    const { cancelTask } = await this.request(ClientCancelTaskDocument, { id }, { retry: false });
    if (cancelTask.__typename === "MutationCancelTaskSuccess") return cancelTask.data;
    throw new BerthMutationError(cancelTask.__typename, cancelTask.message, null);
  }

  /**
   * Appends a chunk of a task's log (agents): the log's size after it. Safe to retry: bytes
   * already stored are not stored twice. A chunk past the end throws BerthLogGapError with the
   * log's size; resend from there.
   */
  async appendTaskLog(input: AppendTaskLogInput): Promise<{ nextOffset: number }> {
    const { appendTaskLog } = await this.request(ClientAppendTaskLogDocument, { input }, { retry: true });
    if (appendTaskLog.__typename === "MutationAppendTaskLogSuccess") return appendTaskLog.data;
    if (appendTaskLog.__typename === "TaskLogGapError") throw new BerthLogGapError(appendTaskLog.message, appendTaskLog.currentSize);
    throw new BerthMutationError(appendTaskLog.__typename, appendTaskLog.message, "field" in appendTaskLog ? appendTaskLog.field : null);
  }

  /** One page of a task's log from byte `from`; null when there is no such task. */
  async taskLog(id: string, from = 0) {
    return (await this.request(ClientTaskLogDocument, { id, from })).task?.log ?? null;
  }

  /**
   * A live subscription over SSE. It reconnects after a dropped connection, a server that went
   * away or a SUBSCRIPTION_OVERFLOW (the reader fell behind), with backoff, and calls `resync`
   * each time it is (re)established, after subscribing, so that nothing is missed between the
   * read and the events. It ends for good, rejecting `done`, when the server refuses it in a way
   * a retry would not change (revoked token, forbidden, bad arguments).
   */
  subscribe<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, handlers: SubscriptionHandlers<TResult>): LiveSubscription {
    const abort = new AbortController();
    const query = print(document);
    const done = (async () => {
      for (let failures = 0; !abort.signal.aborted; ) {
        try {
          const response = await this.fetch(this.endpoint, {
            method: "POST",
            headers: this.headers("text/event-stream"),
            body: JSON.stringify({ query, variables }),
            signal: abort.signal,
          });
          if (!response.ok || !response.body) {
            const body = (await response.json().catch(() => null)) as { errors?: GraphQLErrorBody[] } | null;
            const retryAfter = response.headers.get("retry-after");
            throw new BerthApiError(response.status, body?.errors ?? [{ message: `subscription refused with ${response.status}` }], retryAfter ? Number(retryAfter) : undefined);
          }
          await handlers.resync?.();
          const outcome = await this.readStream(response.body, handlers, abort.signal);
          if (outcome === "connected") failures = 0;
        } catch (error) {
          if (abort.signal.aborted) return;
          if (error instanceof BerthApiError && error.codes.some((c) => FATAL.has(c))) throw error;
          if (error instanceof BerthApiError && error.status === 401) throw error;
          await sleep(this.delay(failures++, error instanceof BerthApiError ? error.retryAfterSeconds : undefined), abort.signal);
          continue;
        }
        // The stream ended (overflow, server shutdown, dropped connection): reconnect and resync.
        await sleep(this.delay(failures++), abort.signal);
      }
    })();
    done.catch(() => {});
    return { close: () => abort.abort(), done };
  }

  /** Reads one SSE response until it ends; throws BerthApiError for an error that ends the subscription for good. */
  private async readStream<T>(body: ReadableStream<Uint8Array>, handlers: SubscriptionHandlers<T>, signal: AbortSignal): Promise<"connected"> {
    let fatal: BerthApiError | null = null;
    let ended = false;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        if (ended || message.event !== "next" || !message.data) {
          if (message.event === "complete") ended = true;
          return;
        }
        const result = JSON.parse(message.data) as { data?: T; errors?: GraphQLErrorBody[] };
        if (result.errors?.length) {
          const error = new BerthApiError(200, result.errors);
          // SUBSCRIPTION_OVERFLOW and anything else not fatal: the stream ends, and is reopened.
          if (error.codes.some((c) => FATAL.has(c))) fatal = error;
          ended = true;
          return;
        }
        if (result.data) handlers.next(result.data);
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      while (!ended && !signal.aborted) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (fatal) throw fatal;
    return "connected";
  }

  /**
   * A pool, kept current: `onSnapshot` with the whole pool when watching starts and after every
   * gap (reconnect, overflow), `onSlot` with each slot change in between.
   */
  watchPool(
    name: string,
    handlers: { onSnapshot(pool: NonNullable<ClientPoolQuery["pool"]> | null): void; onSlot(change: ClientSlotChangedSubscription["slotChanged"]): void },
  ): LiveSubscription {
    return this.subscribe(ClientSlotChangedDocument, { pool: name }, {
      next: (data) => handlers.onSlot(data.slotChanged),
      resync: async () => handlers.onSnapshot(await this.pool(name)),
    });
  }
}

export function createBerthClient(options: BerthClientOptions): BerthClient {
  return new BerthClient(options);
}
