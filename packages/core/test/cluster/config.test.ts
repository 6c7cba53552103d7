import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/cluster/index.js";

const load = (env: Record<string, string>) => loadConfig(env, "/srv/berth");

describe("configuration", () => {
  it("defaults to the embedded setup", () => {
    const c = load({});
    expect(c.api.port).toBe(4000);
    expect(c.web.port).toBe(3000);
    expect(c.dataDir).toBe("/srv/berth/.berth");
    expect(c.database).toEqual({ kind: "pglite", dataDir: "/srv/berth/.berth/db" });
    expect(c.storage.type).toBe("local");
    expect(c.storage.localPath).toBe("/srv/berth/.berth/files");
    expect(c.runtime.type).toBe("local");
    expect(c.redisUrl).toBeUndefined();
    expect(c.demoPool).toBe(true);
  });

  it.each([
    ["API_PORT", "http", "a TCP port 1-65535"],
    ["API_PORT", "70000", "a TCP port 1-65535"],
    ["DATABASE_URL", "mysql://x", "a postgres:// or postgresql:// URL"],
    ["REDIS_URL", "localhost:6379", "a redis:// or rediss:// URL"],
    ["STORAGE_TYPE", "s3", "local or minio"],
    ["POD_RUNTIME", "docker", "local or kubernetes"],
    ["CLUSTER_MODE", "maybe", "true or false"],
    ["BERTH_ADMIN_TOKEN", "short", "a token of at least 16 characters"],
  ])("%s=%s stops start-up with a message naming the variable", (name, value, accepts) => {
    const error = (() => {
      try {
        load({ [name]: value });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.variable).toBe(name);
    expect(error!.message).toBe(`${name}=${JSON.stringify(value)} is invalid: expected ${accepts}`);
  });

  it("cluster mode needs PostgreSQL and Redis", () => {
    expect(() => load({ CLUSTER_MODE: "true" })).toThrow(/^DATABASE_URL=/);
    expect(() => load({ CLUSTER_MODE: "true", DATABASE_URL: "postgresql://h/db" })).toThrow(/^REDIS_URL=/);
  });

  it("cluster mode picks MinIO storage and asks for its keys", () => {
    const base = { CLUSTER_MODE: "true", DATABASE_URL: "postgresql://h/db", REDIS_URL: "redis://h" };
    expect(() => load(base)).toThrow(/^MINIO_ACCESS_KEY=/);
    const c = load({ ...base, MINIO_ACCESS_KEY: "a", MINIO_SECRET_KEY: "b" });
    expect(c.storage.type).toBe("minio");
    expect(c.demoPool).toBe(false);
    expect(load({ ...base, STORAGE_TYPE: "local" }).storage.type).toBe("local");
  });

  it("inside Kubernetes the API listens on every interface and pods are Kubernetes pods", () => {
    const c = load({ KUBERNETES_SERVICE_HOST: "10.0.0.1", DATABASE_URL: "postgresql://h/db", REDIS_URL: "redis://h", STORAGE_TYPE: "local" });
    expect(c.api.host).toBe("0.0.0.0");
    expect(c.runtime.type).toBe("kubernetes");
  });
});
