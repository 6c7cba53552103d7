import { describe, expect, it } from "vitest";
import { describeCluster, detectCluster } from "../../src/cluster/index.js";

const host = "box";
const pid = 42;
const detect = (env: Record<string, string>) => detectCluster(env, host, pid);

describe("cluster detection", () => {
  it("with no signal runs locally, one replica named after the host", () => {
    expect(detect({})).toMatchObject({ mode: "local", clustered: false, replicaId: "box", totalReplicas: 1, environment: "development" });
  });

  it("CLUSTER_MODE=true forces cluster mode", () => {
    expect(detect({ CLUSTER_MODE: "true" })).toMatchObject({ mode: "forced", clustered: true, replicaId: "box-42" });
  });

  it("CLUSTER_MODE=false forces local mode even inside Kubernetes", () => {
    expect(detect({ CLUSTER_MODE: "false", KUBERNETES_SERVICE_HOST: "10.0.0.1", REPLICAS: "3" })).toMatchObject({ mode: "local", clustered: false });
  });

  it("KUBERNETES_SERVICE_HOST means Kubernetes, replica named after the pod", () => {
    const info = detect({ KUBERNETES_SERVICE_HOST: "10.0.0.1", HOSTNAME: "berth-api-2", REPLICAS: "3" });
    expect(info).toMatchObject({ mode: "kubernetes", clustered: true, replicaId: "berth-api-2", totalReplicas: 3 });
    expect(info.reason).toContain("StatefulSet ordinal 2");
  });

  it("POD_NAME wins over HOSTNAME for the replica id", () => {
    expect(detect({ KUBERNETES_SERVICE_HOST: "x", HOSTNAME: "h", POD_NAME: "p-0" }).replicaId).toBe("p-0");
  });

  it("REPLICAS > 1 means cluster mode", () => {
    expect(detect({ REPLICAS: "2" })).toMatchObject({ mode: "replicas", clustered: true, totalReplicas: 2, replicaId: "box-42" });
  });

  it("REPLICAS=1 alone is local", () => {
    expect(detect({ REPLICAS: "1" }).mode).toBe("local");
  });

  it("NODE_APP_INSTANCE means a PM2 cluster, replica pm2-<n>", () => {
    expect(detect({ NODE_APP_INSTANCE: "3", instances: "4" })).toMatchObject({ mode: "pm2", clustered: true, replicaId: "pm2-3", totalReplicas: 4 });
  });

  it("precedence: CLUSTER_MODE > Kubernetes > REPLICAS > PM2", () => {
    expect(detect({ CLUSTER_MODE: "true", KUBERNETES_SERVICE_HOST: "x", REPLICAS: "3", NODE_APP_INSTANCE: "0" }).mode).toBe("forced");
    expect(detect({ KUBERNETES_SERVICE_HOST: "x", REPLICAS: "3", NODE_APP_INSTANCE: "0" }).mode).toBe("kubernetes");
    expect(detect({ REPLICAS: "3", NODE_APP_INSTANCE: "0" }).mode).toBe("replicas");
    expect(detect({ NODE_APP_INSTANCE: "0" }).mode).toBe("pm2");
  });

  it("REPLICA_ID overrides the derived id in every mode", () => {
    expect(detect({ REPLICA_ID: "r1" }).replicaId).toBe("r1");
    expect(detect({ REPLICA_ID: "r1", REPLICAS: "2" }).replicaId).toBe("r1");
    expect(detect({ REPLICA_ID: "r1", NODE_APP_INSTANCE: "1" }).replicaId).toBe("r1");
  });

  it("environment comes from BERTH_ENV, then NODE_ENV", () => {
    expect(detect({ NODE_ENV: "production" }).environment).toBe("production");
    expect(detect({ NODE_ENV: "production", BERTH_ENV: "staging" }).environment).toBe("staging");
  });

  it("prints one diagnostic line", () => {
    const line = describeCluster(detect({ REPLICAS: "2" }));
    expect(line).toBe("berth: cluster mode=replicas clustered=true replica=box-42 replicas=2 env=development (REPLICAS=2)");
  });
});
