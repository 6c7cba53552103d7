import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { reachable, servicesRequired } from "../../../../../packages/core/test/support/services.js";
import { freePort } from "../../support/processes.js";

/** Whether this machine has a `redis-server` binary; under REQUIRE_SERVICES a missing one fails the run. */
export function redisServerInstalled(): boolean {
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  if (!found && servicesRequired) throw new Error("redis-server is not installed and REQUIRE_SERVICES=1: the Redis restart test needs its own server");
  return found;
}

/**
 * A Redis server of this test's own, on a loopback port, without persistence: restarting it
 * loses every key, as a Redis without a disk would. The machine's shared Redis is never touched.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  readonly url: string;

  private constructor(readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (again) on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("the private Redis is already running");
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 10_000;
    while (!(await reachable(this.url, 200))) {
      if (this.child !== child) throw new Error(`redis-server on port ${this.port} exited at start`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not listen within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the server with SIGKILL (no shutdown, as in a crash) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined || child.pid <= 0) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}
