import { createSubscriptionQueue, DEFAULT_QUEUE_LIMIT, SubscriptionOverflowError } from "@berth/core/events";
import { GraphQLError, print, type DocumentNode, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { BerthContext } from "./context.js";
import { exposeExpectedErrors } from "./errors.js";

type Results = AsyncIterableIterator<ExecutionResult> & { return?: () => Promise<IteratorResult<ExecutionResult>> };

interface SharedStream {
  source: Results;
  subscribers: Set<AsyncIterableIterator<ExecutionResult> & { push(value: ExecutionResult): void; end(): void }>;
}

const isResults = (value: unknown): value is Results => typeof value === "object" && value !== null && Symbol.asyncIterator in value;

const printed = new WeakMap<DocumentNode, string>();
const documentText = (document: DocumentNode) => {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
};

/**
 * Subscribers that would receive identical results share one execution: the same document,
 * operation and variables, asked by tokens of the same role and pool scope (the only things
 * field access depends on). Each event is then resolved once, not once per subscriber; with a
 * thousand consoles watching one pool that was most of the work of a slot change.
 *
 * Every subscriber still subscribes on its own first, so access checks and argument errors
 * answer each one as before; only a subscription that starts is joined to the shared stream
 * (and its own source closed). A subscriber receives the events after it joined; the shared
 * execution ends when its last subscriber leaves.
 */
/** What a subscriber that fell behind gets instead of the events it missed; then its stream ends. */
export function overflowResult(limit: number): ExecutionResult {
  return {
    errors: [
      new GraphQLError(`this subscriber fell more than ${limit} events behind (SUBSCRIPTION_QUEUE_LIMIT) and was closed: subscribe again and read the current state`, {
        extensions: { code: "SUBSCRIPTION_OVERFLOW", limit },
      }),
    ],
  };
}

export function sharedSubscriptions(options: { queueLimit?: number } = {}): Plugin<BerthContext> {
  const queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
  const streams = new Map<string, SharedStream>();

  function keyOf(args: { document: DocumentNode; operationName?: string | null; variableValues?: unknown; contextValue?: unknown }): string {
    const auth = (args.contextValue as BerthContext | undefined)?.auth;
    const principal = auth ? `${auth.role}:${auth.poolId ?? ""}` : "anonymous";
    return JSON.stringify([principal, args.operationName ?? null, args.variableValues ?? null, documentText(args.document)]);
  }

  function start(key: string, source: Results): SharedStream {
    const stream: SharedStream = { source, subscribers: new Set() };
    streams.set(key, stream);
    void (async () => {
      try {
        for await (const result of source) for (const subscriber of stream.subscribers) subscriber.push(result);
      } catch (error) {
        if (error instanceof SubscriptionOverflowError) {
          // The execution itself fell behind its events: every subscriber of it missed them.
          for (const subscriber of stream.subscribers) subscriber.push(overflowResult(error.limit));
          return;
        }
        // An expected error (an agent's assignments of another pool's pod) keeps its message and
        // code; anything else is masked, as yoga masks it.
        const shown = exposeExpectedErrors(error, "Unexpected error.");
        const reported = shown instanceof GraphQLError ? shown : new GraphQLError("Unexpected error.");
        for (const subscriber of stream.subscribers) subscriber.push({ errors: [reported] });
      } finally {
        if (streams.get(key) === stream) streams.delete(key);
        // Each gets what it has not read yet (the error above, say), then the end.
        for (const subscriber of [...stream.subscribers]) subscriber.end();
      }
    })();
    return stream;
  }

  function join(key: string, stream: SharedStream): AsyncIterableIterator<ExecutionResult> {
    // Bounded: a subscriber that reads slower than the events come is closed with a reason
    // (overflowResult) instead of holding every event it has not read.
    const subscriber = createSubscriptionQueue<ExecutionResult>(
      () => {
        stream.subscribers.delete(subscriber);
        if (stream.subscribers.size > 0) return;
        // A subscriber arriving from now on starts a new stream.
        if (streams.get(key) === stream) streams.delete(key);
        void stream.source.return?.();
      },
      { limit: queueLimit, overflowed: overflowResult },
    );
    stream.subscribers.add(subscriber);
    return subscriber;
  }

  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const own = await subscribeFn(args);
        if (!isResults(own)) return own;
        const key = keyOf(args);
        const existing = streams.get(key);
        if (!existing) return join(key, start(key, own));
        await own.return?.();
        return join(key, existing);
      });
    },
  };
}
