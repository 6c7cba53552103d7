import { join } from "node:path";
import { startApiProcess, type ApiProcess } from "../../support/processes.js";
import type { Endpoint } from "./graphql.js";

export interface Replica extends Endpoint {
  process: ApiProcess;
  pid: number;
  alive(): boolean;
  /** SIGKILL: no shutdown hook runs, locks and connections are left as they were. */
  kill9(): Promise<void>;
}

export interface ReplicaEnv {
  dir: string;
  token: string;
  databaseUrl: string;
  kubeconfig: string;
  /** Cluster mode needs Redis; without it the replica runs embedded-style (memory locks and events). */
  redis?: { url: string; prefix?: string };
  extra?: Record<string, string>;
}

/** The environment of one API process, as an operator would set it (see packages/core/src/cluster/config.ts). */
export function replicaEnv(name: string, e: ReplicaEnv): Record<string, string> {
  return {
    CLUSTER_MODE: e.redis ? "true" : "false",
    REPLICA_ID: name,
    DATABASE_URL: e.databaseUrl,
    DATABASE_POOL_SIZE: "6",
    ...(e.redis ? { REDIS_URL: e.redis.url, ...(e.redis.prefix ? { REDIS_PREFIX: e.redis.prefix } : {}) } : {}),
    BERTH_ADMIN_TOKEN: e.token,
    BERTH_DEMO_POOL: "false",
    STORAGE_TYPE: "local",
    LOCAL_STORAGE_PATH: join(e.dir, "files"),
    BERTH_DATA_DIR: join(e.dir, name),
    RECONCILE_SCHEDULE: "* * * * * *",
    HEARTBEAT_TIMEOUT_SECONDS: "20",
    POD_RUNTIME: "kubernetes",
    // What the pods would call; no pod runs here, but a loopback address is refused with Kubernetes pods.
    API_URL: "http://berth-api.berth.svc:4000",
    KUBECONFIG: e.kubeconfig,
    KUBERNETES_NAMESPACE: "default",
    // The test's clients poll every task they submit with one admin token, far beyond a person.
    RATE_LIMIT_PER_MINUTE: "1000000",
    ...e.extra,
  };
}

/**
 * The environment of one replica started exactly as the README's "several replicas" section
 * shows (PostgreSQL, Redis, cluster mode, local storage in a shared directory, local pods), with
 * the replicas sharing one data directory as they would sharing one working directory, and
 * faster timers so a test sees minutes of behaviour in seconds.
 */
export function readmeReplicaEnv(name: string, e: { dir: string; token: string; databaseUrl: string; redisUrl: string; prefix: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    DATABASE_URL: e.databaseUrl,
    REDIS_URL: e.redisUrl,
    REDIS_PREFIX: e.prefix,
    CLUSTER_MODE: "true",
    STORAGE_TYPE: "local",
    LOCAL_STORAGE_PATH: join(e.dir, "files"),
    BERTH_ADMIN_TOKEN: e.token,
    REPLICA_ID: name,
    BERTH_DATA_DIR: join(e.dir, "data"),
    DATABASE_POOL_SIZE: "6",
    RECONCILE_SCHEDULE: "* * * * * *",
    HEARTBEAT_TIMEOUT_SECONDS: "20",
    AGENT_HEARTBEAT_SECONDS: "1",
    // The test's clients poll every task they submit with one admin token, far beyond a person.
    RATE_LIMIT_PER_MINUTE: "1000000",
    ...e.extra,
  };
}

/** API processes started by one test file; `killAll()` in afterAll ends whatever is left. */
export class Fleet {
  readonly replicas: Replica[] = [];

  async start(name: string, env: Record<string, string>): Promise<Replica> {
    const process = await startApiProcess(env, 120_000);
    const pid = process.child.pid;
    if (pid === undefined || pid <= 0) throw new Error(`API process ${name} has no pid`);
    const alive = () => process.child.exitCode === null && process.child.signalCode === null;
    const replica: Replica = {
      name,
      url: process.url,
      process,
      pid,
      alive,
      kill9: async () => {
        if (!alive()) return;
        const exited = new Promise((resolve) => process.child.once("exit", resolve));
        process.child.kill("SIGKILL");
        await exited;
      },
    };
    this.replicas.push(replica);
    return replica;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.kill9()));
  }
}
