import type { BerthConfig } from "@berth/core/cluster";
import type { VerifiedApiToken } from "@berth/core/tokens";
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
  spend(auth: Pick<VerifiedApiToken, "id" | "role" | "poolId">): Promise<Spent>;
  /** A request from `address` that had no valid token. */
  spendFailure(address: string): Promise<Spent>;
}

const WINDOW_SECONDS = 60;
/** An agent token serves every pod of its pool: its budget is RATE_LIMIT_PER_MINUTE per this many pods the pool may have. */
export const PODS_PER_AGENT_BUDGET = 50;
const POOL_SIZE_TTL_MS = 30_000;

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

/**
 * `maxPodsOf` tells how many pods an agent token's pool may have; it is asked at most every 30 s
 * per pool.
 */
export function createRequestBudget(config: BerthConfig, redis: Redis | null, maxPodsOf: (poolId: string) => Promise<number> = async () => 0): RequestBudget {
  const prefix = `${config.redisPrefix}budget:`;
  const perMinute = config.api.rateLimitPerMinute;
  const addresses = limiter(config.api.rateLimitUnauthenticatedPerMinute, `${prefix}address`, redis);
  // One limiter per budget size: people's and services' tokens, and agent tokens by their pool's size.
  const limiters = new Map<number, RateLimiterAbstract>();
  const limiterOf = (shares: number) => {
    let found = limiters.get(shares);
    if (!found) limiters.set(shares, (found = limiter(perMinute * shares, `${prefix}token:${shares}`, redis)));
    return found;
  };
  const poolSizes = new Map<string, { maxPods: number; at: number }>();
  const sharesOf = async (auth: Pick<VerifiedApiToken, "role" | "poolId">) => {
    if (auth.role !== "agent" || !auth.poolId) return 1;
    let size = poolSizes.get(auth.poolId);
    if (!size || Date.now() - size.at > POOL_SIZE_TTL_MS) poolSizes.set(auth.poolId, (size = { maxPods: await maxPodsOf(auth.poolId).catch(() => 0), at: Date.now() }));
    return Math.max(1, Math.ceil(size.maxPods / PODS_PER_AGENT_BUDGET));
  };
  return {
    spend: async (auth) => spendFrom(limiterOf(await sharesOf(auth)), auth.id),
    spendFailure: (address) => spendFrom(addresses, address),
  };
}
