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
    expect(c.taskLogMaxBytes).toBe(16 * 1024 * 1024);
    expect(load({ TASK_LOG_MAX_BYTES: "65536" }).taskLogMaxBytes).toBe(65536);
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
    ["TASK_LOG_MAX_BYTES", "100", "a number of bytes from 1024 to 1073741824"],
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
    const c = load({ KUBERNETES_SERVICE_HOST: "10.0.0.1", DATABASE_URL: "postgresql://h/db", REDIS_URL: "redis://h", STORAGE_TYPE: "local", API_URL: "http://berth-api.berth.svc:4000" });
    expect(c.api.host).toBe("0.0.0.0");
    expect(c.runtime.type).toBe("kubernetes");
    expect(c.api.url).toBe("http://berth-api.berth.svc:4000");
  });

  describe("with Kubernetes pods, API_URL must be an address the pods can reach", () => {
    const inCluster = { KUBERNETES_SERVICE_HOST: "10.0.0.1", DATABASE_URL: "postgresql://h/db", REDIS_URL: "redis://h", STORAGE_TYPE: "local" };
    it.each(["http://127.0.0.1:4000", "http://127.8.9.10:4000", "http://localhost:4000", "https://api.localhost", "http://[::1]:4000", "http://0.0.0.0:4000", "http://[::]:4000", "http://[::ffff:127.0.0.1]:4000"])(
      "refuses %s with one line naming API_URL",
      (url) => {
        const error = (() => {
          try {
            load({ ...inCluster, API_URL: url });
          } catch (e) {
            return e as ConfigError;
          }
        })();
        expect(error).toBeInstanceOf(ConfigError);
        expect(error!.variable).toBe("API_URL");
        expect(error!.message).not.toContain("\n");
        expect(error!.message).toMatch(/^API_URL=".*" is invalid: expected an address the pools' pods can reach/);
      },
    );

    it("refuses the loopback default when API_URL is unset, also when POD_RUNTIME=kubernetes is set outside a cluster", () => {
      expect(() => load(inCluster)).toThrow(/^API_URL="" is invalid: expected an address the pools' pods can reach/);
      expect(() => load({ POD_RUNTIME: "kubernetes" })).toThrow(/^API_URL=/);
    });

    it("accepts cluster addresses, and loopback ones for local pods", () => {
      expect(load({ ...inCluster, API_URL: "http://10.96.0.20:4000" }).api.url).toBe("http://10.96.0.20:4000");
      expect(load({ POD_RUNTIME: "kubernetes", API_URL: "https://berth.example.com" }).runtime.type).toBe("kubernetes");
      expect(load({ API_URL: "http://127.0.0.1:4000" }).runtime.type).toBe("local");
    });
  });

  describe("pool namespaces", () => {
    it("default to KUBERNETES_NAMESPACE alone, the namespace Berth is released in", () => {
      expect(load({}).runtime).toMatchObject({ namespace: "default", namespaces: ["default"], podServiceAccounts: ["default"] });
      expect(load({ KUBERNETES_NAMESPACE: "berth" }).runtime).toMatchObject({ namespace: "berth", namespaces: ["berth"] });
    });

    it("are listed by BERTH_POOL_NAMESPACES, which must include KUBERNETES_NAMESPACE", () => {
      expect(load({ KUBERNETES_NAMESPACE: "ci", BERTH_POOL_NAMESPACES: "ci, builds,ci" }).runtime.namespaces).toEqual(["ci", "builds"]);
      expect(() => load({ KUBERNETES_NAMESPACE: "berth", BERTH_POOL_NAMESPACES: "ci,builds" })).toThrow(/^KUBERNETES_NAMESPACE="berth" is invalid: expected one of BERTH_POOL_NAMESPACES \(ci, builds\)/);
      expect(() => load({ BERTH_POOL_NAMESPACES: "ci,Not_A_Name" })).toThrow(/^BERTH_POOL_NAMESPACES=/);
      expect(() => load({ BERTH_POOL_NAMESPACES: " , " })).toThrow(/^BERTH_POOL_NAMESPACES=/);
      expect(load({ BERTH_POD_SERVICE_ACCOUNTS: "default,ci-runner" }).runtime.podServiceAccounts).toEqual(["default", "ci-runner"]);
    });
  });
});
