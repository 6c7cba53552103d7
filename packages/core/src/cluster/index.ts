export { detectCluster, describeCluster, type ClusterInfo, type ClusterMode, type Env } from "./detect.js";
export { loadConfig, describeVariables, ConfigError, type BerthConfig } from "./config.js";
