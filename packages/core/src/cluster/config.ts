import { isIP } from "node:net";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { detectCluster, type ClusterInfo, type Env } from "./detect.js";

/** A configuration value that Berth cannot start with. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly accepts: string,
    readonly got: string | undefined,
  ) {
    super(`${variable}=${JSON.stringify(got ?? "")} is invalid: expected ${accepts}`);
    this.name = "ConfigError";
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");
const positive = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  });

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A comma-separated list of names, each matching `name`; duplicates and blanks dropped. */
const nameList = (name: RegExp, maxLength: number) =>
  z
    .string()
    .transform((v) => [...new Set(v.split(",").map((item) => item.trim()).filter(Boolean))])
    .refine((list) => list.length > 0 && list.every((item) => item.length <= maxLength && name.test(item)));

/** Every environment variable Berth reads: name → [schema, what it accepts, default]. */
const variables = {
  API_PORT: [port, "a TCP port 1-65535", "4000"],
  API_HOST: [z.string().min(1), "a host name or address to listen on", undefined],
  WEB_PORT: [port, "a TCP port 1-65535", "3000"],
  API_URL: [url(["http:", "https:"]), "an http(s) URL of the API, e.g. http://127.0.0.1:4000", undefined],
  BERTH_DATA_DIR: [z.string().min(1), "a directory path", "./.berth"],
  BERTH_ADMIN_TOKEN: [z.string().min(16), "a token of at least 16 characters", undefined],
  BERTH_DEMO_POOL: [bool, "true or false", undefined],
  DATABASE_URL: [url(["postgres:", "postgresql:"]), "a postgres:// or postgresql:// URL", undefined],
  DATABASE_POOL_SIZE: [positive, "a positive integer", "10"],
  REDIS_URL: [url(["redis:", "rediss:"]), "a redis:// or rediss:// URL", undefined],
  REDIS_PREFIX: [z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/), "1-64 of letters, digits, : _ . -", "berth:"],
  STORAGE_TYPE: [z.enum(["local", "minio"]), "local or minio", undefined],
  LOCAL_STORAGE_PATH: [z.string().min(1), "a directory path", undefined],
  MINIO_ENDPOINT: [z.string().min(1), "a host name", "127.0.0.1"],
  MINIO_PORT: [port, "a TCP port 1-65535", "9000"],
  MINIO_ACCESS_KEY: [z.string().min(1), "an access key", undefined],
  MINIO_SECRET_KEY: [z.string().min(1), "a secret key", undefined],
  MINIO_BUCKET: [z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/), "an S3 bucket name (3-63 of a-z 0-9 . -)", "berth"],
  MINIO_USE_SSL: [bool, "true or false", "false"],
  STORAGE_MAX_UPLOAD_BYTES: [positive, "a positive number of bytes", String(1024 ** 3)],
  STORAGE_SIGNING_SECRET: [z.string().min(16), "a secret of at least 16 characters", undefined],
  POD_RUNTIME: [z.enum(["local", "kubernetes"]), "local or kubernetes", undefined],
  KUBERNETES_NAMESPACE: [z.string().max(63).regex(dns1123Label), "a Kubernetes namespace name", "default"],
  BERTH_POOL_NAMESPACES: [nameList(dns1123Label, 63), "a comma-separated list of Kubernetes namespace names", undefined],
  BERTH_POD_SERVICE_ACCOUNTS: [nameList(dns1123Subdomain, 253), "a comma-separated list of service account names", "default"],
  HEARTBEAT_TIMEOUT_SECONDS: [positive, "a positive number of seconds", "30"],
  AGENT_HEARTBEAT_SECONDS: [positive, "a positive number of seconds", "5"],
  RECONCILE_SCHEDULE: [z.string().min(1), "a cron expression with seconds, e.g. */5 * * * * *", "*/5 * * * * *"],
  CRON_HISTORY_KEEP: [positive, "a positive integer", "200"],
  SCHEDULE_HISTORY_KEEP: [positive, "a positive integer", "1000"],
  AUDIT_RETENTION_DAYS: [positive, "a positive number of days", "90"],
  TASK_LOG_MAX_BYTES: [z.coerce.number().int().min(1024).max(1024 ** 3), "a number of bytes from 1024 to 1073741824", String(16 * 1024 * 1024)],
  CLUSTER_MODE: [z.enum(["true", "false"]), "true or false", undefined],
  REPLICAS: [positive, "a positive integer", undefined],
  REPLICA_ID: [z.string().min(1), "a replica name", undefined],
  MAX_QUERY_DEPTH: [positive, "a positive integer", "12"],
  MAX_QUERY_COST: [positive, "a positive integer", "5000"],
  MAX_REQUEST_BYTES: [positive, "a positive number of bytes", String(1024 * 1024)],
  MAX_GRAPHQL_UPLOAD_BYTES: [positive, "a positive number of bytes", String(64 * 1024 * 1024)],
  METRICS_PORT: [port, "a TCP port 1-65535", undefined],
  METRICS_TOKEN: [z.string().min(16), "a token of at least 16 characters", undefined],
  RATE_LIMIT_PER_MINUTE: [positive, "a positive integer", "3000"],
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: [positive, "a positive integer", "30"],
  MAX_SUBSCRIPTIONS_PER_TOKEN: [positive, "a positive integer", "100"],
  MAX_SUBSCRIPTIONS_PER_CONNECTION: [positive, "a positive integer", "20"],
  SUBSCRIPTION_QUEUE_LIMIT: [positive, "a positive integer", "500"],
  TOKEN_RECHECK_SECONDS: [positive, "a positive number of seconds", "30"],
  UTILISATION_SAMPLE_SECONDS: [positive, "a positive number of seconds", "15"],
  UTILISATION_RETENTION_SECONDS: [positive, "a positive number of seconds", String(7 * 86_400)],
  REPLICA_HEARTBEAT_SECONDS: [positive, "a positive number of seconds", "5"],
  LOG_LEVEL: [z.enum(["debug", "info", "warn", "error"]), "debug, info, warn or error", "info"],
} as const satisfies Record<string, readonly [z.ZodType, string, string | undefined]>;

type Variables = typeof variables;
type Raw = { [K in keyof Variables]: z.output<Variables[K][0]> | (Variables[K][2] extends string ? never : undefined) };

function parseVariables(env: Env): Raw {
  const out: Record<string, unknown> = {};
  for (const [name, [schema, accepts, fallback]] of Object.entries(variables)) {
    const given = env[name];
    const value = given === undefined || given === "" ? fallback : given;
    if (value === undefined) {
      out[name] = undefined;
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new ConfigError(name, accepts, given);
    out[name] = parsed.data;
  }
  return out as Raw;
}

export interface BerthConfig {
  cluster: ClusterInfo;
  api: {
    port: number;
    host: string;
    url: string;
    maxQueryDepth: number;
    maxQueryCost: number;
    maxRequestBytes: number;
    /** A GraphQL multipart request is held in memory while parsed: its own, smaller limit. */
    maxGraphqlUploadBytes: number;
    /** A separate listener for /metrics (no token needed there); unset: none. */
    metricsPort?: number;
    /** The bearer token /metrics asks for on the API port; unset: /metrics is not served there. */
    metricsToken?: string;
    /** Requests per minute for each token, and for each client address sending no valid token. */
    rateLimitPerMinute: number;
    rateLimitUnauthenticatedPerMinute: number;
    maxSubscriptionsPerToken: number;
    maxSubscriptionsPerConnection: number;
    /** Events buffered for one subscriber that reads slower than they come; past it, it is closed. */
    subscriptionQueueLimit: number;
    /** How often tokens holding subscriptions are checked again (revocation events make it faster). */
    tokenRecheckSeconds: number;
  };
  web: { port: number };
  dataDir: string;
  adminToken?: string;
  demoPool: boolean;
  database: { kind: "pglite"; dataDir: string } | { kind: "postgres"; url: string; poolSize: number };
  redisUrl?: string;
  /** Namespace of every Redis key and channel, so several Berths can share one Redis. */
  redisPrefix: string;
  storage: {
    type: "local" | "minio";
    localPath: string;
    maxUploadBytes: number;
    signingSecret?: string;
    minio: { endPoint: string; port: number; useSSL: boolean; accessKey?: string; secretKey?: string; bucket: string };
  };
  runtime: {
    type: "local" | "kubernetes";
    /** Namespace of a new pool that names none. */
    namespace: string;
    /** The namespaces pools may use; `namespace` is one of them. */
    namespaces: string[];
    /** Service accounts a pool's pod template may name without an admin's override. */
    podServiceAccounts: string[];
  };
  heartbeatTimeoutSeconds: number;
  /** How often agents Berth starts heartbeat and sync; new work goes only to pods heard from within three of these. */
  agentHeartbeatSeconds: number;
  reconcileSchedule: string;
  cronHistoryKeep: number;
  /** Finished runs kept per schedule. */
  scheduleHistoryKeep: number;
  /** Audit entries older than this many days are pruned. */
  auditRetentionDays: number;
  /** A task's log past this many bytes keeps its head and tail (half each) and a truncation marker. */
  taskLogMaxBytes: number;
  /** How often the reconcile pass samples each pool's utilisation, and how long samples are kept. */
  utilisation: { sampleSeconds: number; retentionSeconds: number };
  /** How often this process renews its row in the replica registry (gone after three missed). */
  replicaHeartbeatSeconds: number;
  logLevel: "debug" | "info" | "warn" | "error";
}

/**
 * The checkout's root (where pnpm-workspace.yaml is) above `cwd`, if any: `pnpm start` runs at
 * the root and `pnpm --filter @berth/api start` in apps/api, and both must find the same data.
 */
export function workspaceRoot(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Reads and validates the whole configuration once. Throws ConfigError naming the
 * first variable that is invalid, or a combination that cannot work.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): BerthConfig {
  const v = parseVariables(env);
  const cluster = detectCluster(env);
  const dataDir = env.BERTH_DATA_DIR ? resolve(cwd, v.BERTH_DATA_DIR) : join(workspaceRoot(cwd) ?? cwd, ".berth");
  const storageType = v.STORAGE_TYPE ?? (cluster.clustered ? "minio" : "local");
  const runtimeType = v.POD_RUNTIME ?? (cluster.mode === "kubernetes" ? "kubernetes" : "local");

  if (cluster.clustered && !v.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL", "a postgres:// URL: replicas cannot share the embedded database", undefined);
  }
  if (cluster.clustered && !v.REDIS_URL) {
    throw new ConfigError("REDIS_URL", "a redis:// URL: replicas need Redis for locks and events", undefined);
  }
  if (storageType === "minio" && (!v.MINIO_ACCESS_KEY || !v.MINIO_SECRET_KEY)) {
    throw new ConfigError(
      v.MINIO_ACCESS_KEY ? "MINIO_SECRET_KEY" : "MINIO_ACCESS_KEY",
      "a value when STORAGE_TYPE is minio (or cluster mode chose minio)",
      undefined,
    );
  }
  if (v.AGENT_HEARTBEAT_SECONDS * 2 > v.HEARTBEAT_TIMEOUT_SECONDS) {
    throw new ConfigError("AGENT_HEARTBEAT_SECONDS", `at most half of HEARTBEAT_TIMEOUT_SECONDS (${v.HEARTBEAT_TIMEOUT_SECONDS}), so one late heartbeat does not lose a pod`, String(v.AGENT_HEARTBEAT_SECONDS));
  }
  const host = v.API_HOST ?? (cluster.mode === "kubernetes" ? "0.0.0.0" : "127.0.0.1");
  const apiUrl = v.API_URL ?? `http://127.0.0.1:${v.API_PORT}`;
  if (runtimeType === "kubernetes" && isLoopback(new URL(apiUrl).hostname)) {
    throw new ConfigError("API_URL", "an address the pools' pods can reach (e.g. http://berth-api.berth.svc:4000), not a loopback one, when pods are Kubernetes pods", v.API_URL);
  }
  const namespaces = v.BERTH_POOL_NAMESPACES ?? [v.KUBERNETES_NAMESPACE];
  if (!namespaces.includes(v.KUBERNETES_NAMESPACE)) {
    throw new ConfigError("KUBERNETES_NAMESPACE", `one of BERTH_POOL_NAMESPACES (${namespaces.join(", ")}): new pools go there`, v.KUBERNETES_NAMESPACE);
  }
  return {
    cluster,
    api: {
      port: v.API_PORT,
      host,
      url: apiUrl,
      maxQueryDepth: v.MAX_QUERY_DEPTH,
      maxQueryCost: v.MAX_QUERY_COST,
      maxRequestBytes: v.MAX_REQUEST_BYTES,
      maxGraphqlUploadBytes: v.MAX_GRAPHQL_UPLOAD_BYTES,
      metricsPort: v.METRICS_PORT,
      metricsToken: v.METRICS_TOKEN,
      rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
      rateLimitUnauthenticatedPerMinute: v.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE,
      maxSubscriptionsPerToken: v.MAX_SUBSCRIPTIONS_PER_TOKEN,
      maxSubscriptionsPerConnection: v.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      subscriptionQueueLimit: v.SUBSCRIPTION_QUEUE_LIMIT,
      tokenRecheckSeconds: v.TOKEN_RECHECK_SECONDS,
    },
    web: { port: v.WEB_PORT },
    dataDir,
    adminToken: v.BERTH_ADMIN_TOKEN,
    demoPool: v.BERTH_DEMO_POOL ?? !cluster.clustered,
    database: v.DATABASE_URL
      ? { kind: "postgres", url: v.DATABASE_URL, poolSize: v.DATABASE_POOL_SIZE }
      : { kind: "pglite", dataDir: resolve(dataDir, "db") },
    redisUrl: v.REDIS_URL,
    redisPrefix: v.REDIS_PREFIX,
    storage: {
      type: storageType,
      localPath: resolve(cwd, v.LOCAL_STORAGE_PATH ?? resolve(dataDir, "files")),
      maxUploadBytes: v.STORAGE_MAX_UPLOAD_BYTES,
      signingSecret: v.STORAGE_SIGNING_SECRET,
      minio: {
        endPoint: v.MINIO_ENDPOINT,
        port: v.MINIO_PORT,
        useSSL: v.MINIO_USE_SSL,
        accessKey: v.MINIO_ACCESS_KEY,
        secretKey: v.MINIO_SECRET_KEY,
        bucket: v.MINIO_BUCKET,
      },
    },
    runtime: { type: runtimeType, namespace: v.KUBERNETES_NAMESPACE, namespaces, podServiceAccounts: v.BERTH_POD_SERVICE_ACCOUNTS },
    heartbeatTimeoutSeconds: v.HEARTBEAT_TIMEOUT_SECONDS,
    agentHeartbeatSeconds: v.AGENT_HEARTBEAT_SECONDS,
    reconcileSchedule: v.RECONCILE_SCHEDULE,
    cronHistoryKeep: v.CRON_HISTORY_KEEP,
    scheduleHistoryKeep: v.SCHEDULE_HISTORY_KEEP,
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    taskLogMaxBytes: v.TASK_LOG_MAX_BYTES,
    utilisation: { sampleSeconds: v.UTILISATION_SAMPLE_SECONDS, retentionSeconds: v.UTILISATION_RETENTION_SECONDS },
    replicaHeartbeatSeconds: v.REPLICA_HEARTBEAT_SECONDS,
    logLevel: v.LOG_LEVEL,
  };
}

/** localhost, 127.0.0.0/8, ::1 and the unspecified addresses: nothing another machine can reach. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.") || host === "0.0.0.0";
  // URL normalises IPv6: [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
  if (isIP(host) === 6) return host === "::1" || host === "::" || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(host);
  return false;
}

/** The variables Berth reads, with what each accepts and its default: the README's table comes from here. */
export function describeVariables(): { name: string; accepts: string; default?: string }[] {
  return Object.entries(variables).map(([name, [, accepts, fallback]]) => ({ name, accepts, default: fallback }));
}
