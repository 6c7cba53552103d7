export { detectCluster, describeCluster, type ClusterInfo, type ClusterMode, type Env } from "./detect.js";
export { loadConfig, describeVariables, ConfigError, type BerthConfig } from "./config.js";
export {
  heartbeatReplica,
  listReplicas,
  countAliveReplicas,
  pruneReplicas,
  removeReplica,
  startReplicaHeartbeat,
  MISSED_HEARTBEATS,
  PRUNE_AFTER_HEARTBEATS,
  type ReplicaEntry,
  type ReplicaIdentity,
} from "./replicas.js";
