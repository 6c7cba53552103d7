import { countAliveReplicas, listReplicas, type ClusterInfo, type ReplicaEntry } from "@berth/core/cluster";
import type { LockInfo } from "@berth/core/locks";
import { builder } from "../builder.js";
import { checkClusterServices, type ServiceStatus } from "../cluster-status.js";
import { requestLoader } from "../loaders.js";
import { LockRef } from "./locks.js";

/** The held locks of the whole cluster, read once per request. */
const locksLoader = requestLoader<"all", LockInfo[]>(async (keys, ctx) => {
  const locks = await ctx.services.locks.list();
  return keys.map(() => locks);
});

const ReplicaRef = builder.objectRef<ReplicaEntry>("Replica").implement({
  description: "An API process in the replica registry: it renews its row every REPLICA_HEARTBEAT_SECONDS.",
  fields: (t) => ({
    id: t.exposeString("id"),
    version: t.exposeString("version"),
    host: t.exposeString("host"),
    mode: t.exposeString("mode", { description: "The cluster mode this replica detected." }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime" }),
    alive: t.exposeBoolean("alive", { description: "Seen within three heartbeats; otherwise gone (kept a while, then pruned)." }),
    self: t.boolean({ description: "The replica that answered this request.", resolve: (r, _a, ctx) => r.id === ctx.services.config.cluster.replicaId }),
    locks: t.field({
      type: [LockRef],
      description: "The locks this replica holds (cron jobs, pool guards).",
      complexity: { field: 2, multiplier: 5 },
      resolve: async (r, _a, ctx) => (await locksLoader(ctx).load("all")).filter((l) => l.holder === r.id),
    }),
  }),
});

const ServiceStatusRef = builder.objectRef<ServiceStatus>("ServiceStatus").implement({
  description: "A dependency's reachability, checked when asked (each within 2 s).",
  fields: (t) => ({
    name: t.exposeString("name", { description: "database, redis or storage." }),
    backend: t.exposeString("backend", { description: "pglite or postgres; redis or none; local or minio." }),
    status: t.exposeString("status", { description: "ok, down or unused." }),
    message: t.exposeString("message"),
    latencyMs: t.exposeInt("latencyMs", { nullable: true }),
  }),
});

const Cluster = builder.objectRef<ClusterInfo>("Cluster").implement({
  description: "Where this replica runs, as cluster detection decided at start-up, and the replicas alive now.",
  fields: (t) => ({
    mode: t.exposeString("mode", { description: "local, pm2, kubernetes, replicas or forced." }),
    clustered: t.exposeBoolean("clustered"),
    replicaId: t.exposeString("replicaId"),
    totalReplicas: t.int({
      description: "Replicas alive in the registry (seen within three heartbeats); the configured number until this replica's first heartbeat is written.",
      resolve: async (c, _a, ctx) => (await countAliveReplicas(ctx.services.core, ctx.services.config.replicaHeartbeatSeconds)) || c.totalReplicas,
    }),
    configuredReplicas: t.int({ description: "The number cluster detection expected (REPLICAS, PM2 instances; 1 when unknown).", resolve: (c) => c.totalReplicas }),
    reason: t.exposeString("reason", { description: "Which detection rule decided the mode." }),
    environment: t.exposeString("environment"),
    replicas: t.field({
      type: [ReplicaRef],
      description: "The registry: alive replicas first, then gone ones until they are pruned.",
      complexity: { field: 5, multiplier: 10 },
      resolve: (_c, _a, ctx) => listReplicas(ctx.services.core, ctx.services.config.replicaHeartbeatSeconds),
    }),
    services: t.field({
      type: [ServiceStatusRef],
      description: "Database, Redis and storage, checked now from this replica.",
      complexity: 20,
      resolve: (_c, _a, ctx) => checkClusterServices(ctx.services),
    }),
  }),
});

builder.queryField("cluster", (t) =>
  t.field({
    type: Cluster,
    resolve: (_root, _args, ctx) => ctx.services.config.cluster,
  }),
);
