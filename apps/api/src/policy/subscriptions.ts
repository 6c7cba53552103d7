import type { BerthConfig } from "@berth/core/cluster";
import type { CoreContext } from "@berth/core/context";
import { isResync, type EventBus, type Resync, type TokenRevoked } from "@berth/core/events";
import { poolsById } from "@berth/core/pools";
import { activeTokenIds, type VerifiedApiToken } from "@berth/core/tokens";
import { GraphQLError, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { BerthContext } from "../context.js";

type Results = AsyncIterableIterator<ExecutionResult>;

/** What ends a live subscription or connection from outside: its token was revoked. */
interface Live {
  end(error: GraphQLError): void;
}

export function subscriptionLimit(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "SUBSCRIPTION_LIMIT", http: { status: 429 } } });
}

export function tokenRevoked(): GraphQLError {
  return new GraphQLError("the API token was revoked: this subscription has ended", { extensions: { code: "TOKEN_REVOKED" } });
}

/**
 * The subscriptions (SSE and WebSocket) and WebSocket connections this replica serves, by the
 * token they act for. It caps them per token, and ends them when their token is revoked: at once
 * when a revocation event arrives from any replica, and at the latest at the next periodic
 * re-verification of their tokens (the level-triggered fallback, for a lost event).
 */
export class LiveSubscriptions {
  private readonly byToken = new Map<string, Set<Live>>();
  private timer: NodeJS.Timeout | undefined;
  private revocations: AsyncIterableIterator<TokenRevoked | Resync> | undefined;

  constructor(
    private readonly core: CoreContext,
    private readonly events: EventBus,
    private readonly limits: BerthConfig["api"],
  ) {}

  /** Live subscriptions and connections of a token (all of them without one). */
  count(tokenId?: string): number {
    if (tokenId !== undefined) return this.byToken.get(tokenId)?.size ?? 0;
    let total = 0;
    for (const set of this.byToken.values()) total += set.size;
    return total;
  }

  /**
   * The cap of a token: MAX_SUBSCRIPTIONS_PER_TOKEN; an agent token serves every pod of its
   * pool (each holds its assignments, and a reconnect may overlap the old stream), so two per pod
   * its pool may have, if that is more.
   */
  private async capOf(auth: VerifiedApiToken): Promise<number> {
    const cap = this.limits.maxSubscriptionsPerToken;
    if (auth.role !== "agent" || !auth.poolId) return cap;
    const pool = (await poolsById(this.core, [auth.poolId])).get(auth.poolId);
    return Math.max(cap, 2 * (pool?.maxPods ?? 0));
  }

  /** Takes a place for a new subscription of `auth`, or returns why there is none. Release it with the returned function. */
  async admit(auth: VerifiedApiToken, live: Live): Promise<(() => void) | GraphQLError> {
    const cap = await this.capOf(auth);
    let set = this.byToken.get(auth.id);
    if ((set?.size ?? 0) >= cap) {
      return subscriptionLimit(`this token holds ${cap} subscriptions on this replica already (MAX_SUBSCRIPTIONS_PER_TOKEN): end one first`);
    }
    if (!set) this.byToken.set(auth.id, (set = new Set()));
    set.add(live);
    return () => {
      set.delete(live);
      if (set.size === 0 && this.byToken.get(auth.id) === set) this.byToken.delete(auth.id);
    };
  }

  /** A WebSocket connection acting for `tokenId`: closed when the token is revoked. Not counted against the cap. */
  trackConnection(tokenId: string, close: () => void): () => void {
    const live: Live = { end: close };
    const connections = `connection:${tokenId}`;
    let set = this.byToken.get(connections);
    if (!set) this.byToken.set(connections, (set = new Set()));
    set.add(live);
    return () => {
      set.delete(live);
      if (set.size === 0 && this.byToken.get(connections) === set) this.byToken.delete(connections);
    };
  }

  /** Ends everything this replica serves for these tokens. */
  revoke(tokenIds: Iterable<string>): void {
    for (const id of tokenIds) {
      for (const key of [id, `connection:${id}`]) {
        for (const live of [...(this.byToken.get(key) ?? [])]) live.end(tokenRevoked());
      }
    }
  }

  /** Ends every subscription and connection at once: the server is going away, and open streams would hold it up. */
  endAll(): void {
    const ending = new GraphQLError("the server is shutting down: subscribe again", { extensions: { code: "SERVER_SHUTTING_DOWN" } });
    for (const set of [...this.byToken.values()]) for (const live of [...set]) live.end(ending);
  }

  /** Re-verifies the tokens holding subscriptions in one query; ends those no longer valid. */
  async recheck(): Promise<void> {
    const ids = [...new Set([...this.byToken.keys()].map((k) => k.replace(/^connection:/, "")))];
    if (ids.length === 0) return;
    const active = await activeTokenIds(this.core.prisma, ids);
    this.revoke(ids.filter((id) => !active.has(id)));
  }

  start(): void {
    const revocations = (this.revocations = this.events.subscribe("tokenRevoked"));
    void (async () => {
      try {
        for await (const event of revocations) {
          // A revocation published while the bus was reconnecting is lost: check every token again.
          if (isResync(event)) void this.recheck().catch(() => {});
          else this.revoke([event.tokenId]);
        }
      } catch {
        // The bus closed or overflowed: the periodic check below still ends revoked tokens' streams.
      }
    })();
    this.timer = setInterval(() => void this.recheck().catch(() => {}), this.limits.tokenRecheckSeconds * 1000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.revocations?.return?.();
  }
}

/**
 * A subscription's results that can be ended from outside: the reader then gets `error` as a
 * last result, and the source is released. Looks like an async generator (graphql-ws checks).
 * (No Promise.race against a long-lived "ended" promise: each race would stay attached to it,
 * and with it every result it resolved to.)
 */
function endable(source: Results, release: () => void): { results: Results; end(error: GraphQLError): void } {
  /** The last result still to give, null once given (or when the reader left), undefined while live. */
  let last: ExecutionResult | null | undefined;
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  let released = false;
  const finish = () => {
    if (released) return;
    released = true;
    release();
    void source.return?.();
  };
  const drain = (): IteratorResult<ExecutionResult> => {
    const value = last;
    last = null;
    return value ? { value, done: false } : { value: undefined, done: true };
  };
  const results: Results = {
    next() {
      if (last !== undefined) return Promise.resolve(drain());
      return new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
        waiting = resolve;
        source.next().then(
          (result) => {
            if (waiting !== resolve) return; // ended meanwhile: the reader got its last result
            waiting = null;
            if (result.done) finish();
            resolve(result);
          },
          (error: unknown) => {
            if (waiting !== resolve) return;
            waiting = null;
            finish();
            reject(error);
          },
        );
      });
    },
    async return() {
      last = null;
      waiting?.({ value: undefined, done: true });
      waiting = null;
      finish();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      last = null;
      waiting?.({ value: undefined, done: true });
      waiting = null;
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    results,
    end(error) {
      if (last !== undefined) return;
      last = { errors: [error] };
      const resolve = waiting;
      waiting = null;
      if (resolve) resolve(drain());
      finish();
    },
  };
}

const isResults = (value: unknown): value is Results => typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * Subscriptions over SSE and WebSocket alike: each takes a place of its token's cap before it
 * starts (429 SUBSCRIPTION_LIMIT past it), gives it back when it ends, and ends with
 * TOKEN_REVOKED when its token is revoked.
 */
export function boundedSubscriptions(live: LiveSubscriptions): Plugin {
  return {
    async onSubscribe({ args, setResultAndStopExecution, subscribeFn, setSubscribeFn }) {
      const auth = (args.contextValue as unknown as BerthContext | undefined)?.auth;
      if (!auth) return;
      const handle: { end(error: GraphQLError): void } = { end: () => {} };
      const admitted = await live.admit(auth, { end: (error) => handle.end(error) });
      if (admitted instanceof GraphQLError) return setResultAndStopExecution({ errors: [admitted] });
      let released = false;
      const release = () => {
        if (!released) admitted();
        released = true;
      };
      // A subscribe that throws never reaches onSubscribeResult: its place is given back here.
      setSubscribeFn(async (subscribeArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (error) {
          release();
          throw error;
        }
      });
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isResults(result)) return release();
          const wrapped = endable(result, release);
          handle.end = wrapped.end;
          setResult(wrapped.results);
        },
        onSubscribeError() {
          release();
        },
      };
    },
  };
}
