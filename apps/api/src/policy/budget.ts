import type { BerthConfig } from "@berth/core/cluster";
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

/** Seconds a client should wait, or null when the request is within its budget. */
export type Spent = number | null;

/**
 * Requests per minute: one budget per token, and one per client address for requests that
 * bring no valid token (wrong guesses, missing headers, the console's sign-in form). With
 * Redis the counters are shared by every replica; without it they are this process's.
 */
export interface RequestBudget {
  /** A request by a verified token. */
  spend(tokenId: string): Promise<Spent>;
  /** A request from `address` that had no valid token. */
  spendFailure(address: string): Promise<Spent>;
}

const WINDOW_SECONDS = 60;

function limiter(points: number, keyPrefix: string, redis: Redis | null): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix });
  if (!redis) return memory;
  // While Redis does not answer, each replica keeps counting on its own rather than letting everything through.
  return new RateLimiterRedis({ storeClient: redis, points, duration: WINDOW_SECONDS, keyPrefix, insuranceLimiter: memory });
}

async function spendFrom(limiterOf: RateLimiterAbstract, key: string): Promise<Spent> {
  try {
    await limiterOf.consume(key);
    return null;
  } catch (result) {
    if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    throw result;
  }
}

export function createRequestBudget(config: BerthConfig, redis: Redis | null): RequestBudget {
  const prefix = `${config.redisPrefix}budget:`;
  const tokens = limiter(config.api.rateLimitPerMinute, `${prefix}token`, redis);
  const addresses = limiter(config.api.rateLimitUnauthenticatedPerMinute, `${prefix}address`, redis);
  return {
    spend: (tokenId) => spendFrom(tokens, tokenId),
    spendFailure: (address) => spendFrom(addresses, address),
  };
}
