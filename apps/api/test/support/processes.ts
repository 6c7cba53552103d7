import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freshPostgres } from "../../../../packages/core/test/support/databases.js";
import { REDIS_URL } from "../../../../packages/core/test/support/services.js";

const serverScript = fileURLToPath(new URL("../../src/server.ts", import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ApiProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `apps/api/src/server.ts` as its own OS process, as the README starts the API alone, and
 * waits until /healthz answers. `port`: the same one again, for a restart (pods know the URL).
 */
export async function startApiProcess(env: Record<string, string>, timeoutMs = 90_000, port?: number): Promise<ApiProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", serverScript], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", API_PORT: String(port), API_HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API process exited ${child.exitCode}: ${out}`);
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`API process did not come up in ${timeoutMs} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => out,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ReplicaPair {
  a: ApiProcess;
  b: ApiProcess;
  /** Stops both processes, drops the database and removes their directories. */
  stop(): Promise<void>;
}

/**
 * Two API processes in cluster mode, as the README runs replicas: one fresh PostgreSQL database,
 * one Redis prefix, local storage and pods, each its own data directory. `env` adds or overrides.
 */
export async function startReplicaPair(label: string, adminToken: string, env: Record<string, string> = {}): Promise<ReplicaPair> {
  const db = await freshPostgres();
  const dir = await mkdtemp(join(tmpdir(), `berth-${label}-`));
  const shared = {
    CLUSTER_MODE: "true",
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: "4",
    REDIS_URL,
    REDIS_PREFIX: `berth-test-${randomBytes(4).toString("hex")}:`,
    STORAGE_TYPE: "local",
    LOCAL_STORAGE_PATH: join(dir, "files"),
    BERTH_ADMIN_TOKEN: adminToken,
    POD_RUNTIME: "local",
    ...env,
  };
  const started = await Promise.allSettled([
    startApiProcess({ ...shared, REPLICA_ID: "replica-a", BERTH_DATA_DIR: join(dir, "a") }),
    startApiProcess({ ...shared, REPLICA_ID: "replica-b", BERTH_DATA_DIR: join(dir, "b") }),
  ]);
  const stop = async () => {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [a, b] = started.map((s) => (s as PromiseFulfilledResult<ApiProcess>).value);
  return { a: a!, b: b!, stop };
}
