import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { startReplicaHeartbeat, type BerthConfig, type ReplicaIdentity } from "@berth/core/cluster";
import { openDatabase, type Database, type DatabaseConfig, type PrismaClient } from "@berth/core/db";
import { createMemoryEventBus, createRedisEventBus, type EventBus } from "@berth/core/events";
import { countPools, poolsById } from "@berth/core/pools";
import { countSchedules } from "@berth/core/schedules";
import { ensureBootstrapAdminToken } from "@berth/core/tokens";
import { Redis } from "ioredis";
import { openDomain, type Background, type DomainOptions, type DomainServices } from "./domain.js";
import { createRequestBudget, type RequestBudget } from "./policy/budget.js";
import { createListSizes, type ListSizes } from "./policy/list-sizes.js";
import { LiveSubscriptions } from "./policy/subscriptions.js";

/** Redis did not answer at start-up; `reason` is one line for a person. */
export class RedisUnavailableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`redis unavailable at ${redactUrl(url)}: ${reason}`);
    this.name = "RedisUnavailableError";
  }
}

/** Everything the API holds for its lifetime. Schema files reach it as `ctx.services`. */
export interface Services extends DomainServices, Background {
  config: BerthConfig;
  db: Database;
  prisma: PrismaClient;
  events: EventBus;
  /** Shared Redis connection when REDIS_URL is set (readiness, and for locks/cron to reuse). */
  redis: Redis | null;
  /** Checks behind /readyz, by name; each throws when its dependency does not answer. */
  readiness: Map<string, () => Promise<void>>;
  /** Requests per minute per token and per address (shared through Redis when there is one). */
  budget: RequestBudget;
  /** What unbounded lists return, for their query cost. */
  listSizes: ListSizes;
  /** Open subscriptions and WebSocket connections by token: capped, and ended when their token is revoked. */
  subscriptions: LiveSubscriptions;
  /** This process in the replica registry (its row is renewed every REPLICA_HEARTBEAT_SECONDS). */
  replica: ReplicaIdentity;
  /** The secret of an admin token generated at this start, to print once; null otherwise. */
  bootstrapToken: string | null;
  /** Registers a release step; `close()` runs them in reverse order of registration. */
  onClose(release: () => Promise<unknown> | unknown): void;
  /** Releases everything (locks, connections, database). Safe to call more than once. */
  close(): Promise<void>;
}

export interface CreateServicesOptions extends DomainOptions {
  /** Overrides `config.database`, e.g. an in-memory PGlite in tests. */
  database?: DatabaseConfig;
}

const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/** The API's version, from its package.json (the same relative path from src/ and dist/). */
function apiVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "REDIS_URL";
  }
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Fail fast instead of queueing commands while Redis is away: /readyz must answer, not hang.
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  // ioredis reports connection trouble as events; without a listener it would log each retry.
  redis.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const e = (lastError ?? error) as NodeJS.ErrnoException;
    throw new RedisUnavailableError(url, e.code === "ECONNREFUSED" ? "connection refused" : (e.message ?? String(e)).split("\n")[0]!);
  }
  return redis;
}

/** In-process without Redis; over Redis pub/sub with it, so every replica sees every event. */
function openEventBus(config: BerthConfig): EventBus {
  const queueLimit = config.api.subscriptionQueueLimit;
  if (!config.redisUrl) return createMemoryEventBus({ queueLimit });
  return createRedisEventBus({ url: config.redisUrl, prefix: `${config.redisPrefix}events:`, queueLimit });
}

/**
 * Opens what the API needs, in order: database (migrated), Redis, event bus, bootstrap admin
 * token. If a step fails, what was opened is closed again and the typed error is rethrown
 * (DatabaseUnavailableError, DataDirInUseError, RedisUnavailableError, ...).
 */
export async function createServices(config: BerthConfig, options: CreateServicesOptions = {}): Promise<Services> {
  const releases: (() => Promise<unknown> | unknown)[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const release of releases.reverse()) {
        // One failing release must not keep the database open.
        await Promise.resolve()
          .then(release)
          .catch((error: unknown) => process.stderr.write(`berth: error while closing: ${(error as Error)?.message ?? error}\n`));
      }
    })());

  try {
    const db = await openDatabase(options.database ?? config.database);
    releases.push(() => db.close());
    await db.migrate();

    const readiness = new Map<string, () => Promise<void>>([["database", () => db.ping()]]);
    let redis: Redis | null = null;
    if (config.redisUrl) {
      const client = await connectRedis(config.redisUrl);
      redis = client;
      releases.push(() => client.quit().catch(() => client.disconnect()));
      readiness.set("redis", async () => {
        await client.ping();
      });
    }

    const events = openEventBus(config);
    releases.push(() => events.close());

    const bootstrap = await ensureBootstrapAdminToken(db.prisma, config.adminToken);
    const onClose = (release: () => Promise<unknown> | unknown) => {
      releases.push(release);
    };
    const domain = await openDomain({ config, prisma: db.prisma, events, redis, onClose }, options);
    const subscriptions = new LiveSubscriptions(domain.core, events, config.api);
    subscriptions.start();
    releases.push(() => subscriptions.close());

    const replica: ReplicaIdentity = { id: config.cluster.replicaId, version: apiVersion(), startedAt: new Date(), mode: config.cluster.mode, host: hostname() };
    const heartbeat = startReplicaHeartbeat(domain.core, replica, config.replicaHeartbeatSeconds);
    releases.push(() => heartbeat.stop());
    await heartbeat.first;

    return {
      ...domain,
      budget: createRequestBudget(config, redis, async (poolId) => (await poolsById(domain.core, [poolId])).get(poolId)?.maxPods ?? 0),
      listSizes: createListSizes({ pools: () => countPools(domain.core), schedules: () => countSchedules(domain.core) }),
      subscriptions,
      replica,
      config,
      db,
      prisma: db.prisma,
      events,
      redis,
      readiness,
      bootstrapToken: bootstrap.token,
      onClose,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
