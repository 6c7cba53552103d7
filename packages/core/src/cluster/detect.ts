import { hostname } from "node:os";

export type ClusterMode = "local" | "pm2" | "kubernetes" | "replicas" | "forced";

export interface ClusterInfo {
  /** How the process runs: alone, or as one replica of many. */
  mode: ClusterMode;
  /** True when more than one replica may run: locks, events and cron must coordinate. */
  clustered: boolean;
  /** Stable identity of this replica (pod name, StatefulSet ordinal, PM2 instance or host-pid). */
  replicaId: string;
  /** How many replicas are expected (1 when unknown). */
  totalReplicas: number;
  /** Deployment environment name (BERTH_ENV, else NODE_ENV, else "development"). */
  environment: string;
  /** Which rule decided the mode, for the start-up diagnostic line. */
  reason: string;
}

export type Env = Record<string, string | undefined>;

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function statefulSetOrdinal(name: string): number | undefined {
  const match = /-(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Decides how this process runs, by the rules in order:
 * CLUSTER_MODE, KUBERNETES_SERVICE_HOST, REPLICAS > 1, NODE_APP_INSTANCE (PM2), else local.
 */
export function detectCluster(env: Env, host: string = hostname(), pid: number = process.pid): ClusterInfo {
  const environment = env.BERTH_ENV || env.NODE_ENV || "development";
  const replicas = positiveInt(env.REPLICAS);
  const explicitId = env.REPLICA_ID?.trim() || undefined;
  const podName = env.POD_NAME?.trim() || env.HOSTNAME?.trim() || host;
  const pm2Instance = env.NODE_APP_INSTANCE?.trim();
  const pm2Total = positiveInt(env.instances);

  const forced = env.CLUSTER_MODE?.trim().toLowerCase();
  if (forced === "true" || forced === "false") {
    const clustered = forced === "true";
    return {
      mode: clustered ? "forced" : "local",
      clustered,
      replicaId: explicitId ?? (clustered ? `${host}-${pid}` : host),
      totalReplicas: replicas ?? 1,
      environment,
      reason: `CLUSTER_MODE=${forced}`,
    };
  }
  if (env.KUBERNETES_SERVICE_HOST) {
    const ordinal = statefulSetOrdinal(podName);
    return {
      mode: "kubernetes",
      clustered: true,
      replicaId: explicitId ?? podName,
      totalReplicas: replicas ?? 1,
      environment,
      reason: `KUBERNETES_SERVICE_HOST is set${ordinal !== undefined ? ` (StatefulSet ordinal ${ordinal})` : ""}`,
    };
  }
  if (replicas !== undefined && replicas > 1) {
    return {
      mode: "replicas",
      clustered: true,
      replicaId: explicitId ?? `${host}-${pid}`,
      totalReplicas: replicas,
      environment,
      reason: `REPLICAS=${replicas}`,
    };
  }
  if (pm2Instance !== undefined && pm2Instance !== "") {
    return {
      mode: "pm2",
      clustered: true,
      replicaId: explicitId ?? `pm2-${pm2Instance}`,
      totalReplicas: pm2Total ?? replicas ?? 1,
      environment,
      reason: `NODE_APP_INSTANCE=${pm2Instance} (PM2 cluster)`,
    };
  }
  return {
    mode: "local",
    clustered: false,
    replicaId: explicitId ?? host,
    totalReplicas: 1,
    environment,
    reason: "no cluster signal",
  };
}

/** The one line Berth prints at start-up about where it runs. */
export function describeCluster(info: ClusterInfo): string {
  return `berth: cluster mode=${info.mode} clustered=${info.clustered} replica=${info.replicaId} replicas=${info.totalReplicas} env=${info.environment} (${info.reason})`;
}
