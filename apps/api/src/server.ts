import { ConfigError, describeCluster, loadConfig, type BerthConfig } from "@berth/core/cluster";
import { DataDirInUseError, DatabaseUnavailableError, MigrationError, type DatabaseConfig } from "@berth/core/db";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensureDemoPool, type DomainOptions } from "./domain.js";
import { listenForMetrics } from "./http.js";
import { createServices, RedisUnavailableError, type Services } from "./services.js";
import { attachWebSocket } from "./ws.js";
import { createBerthYoga, type BerthYogaOptions } from "./yoga.js";

/** In-flight requests get this long to finish at shutdown; then their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface StartedServer {
  url: string;
  /** The METRICS_PORT listener's URL, when one was asked for. */
  metricsUrl?: string;
  services: Services;
  close(): Promise<void>;
}

export interface StartServerOptions extends BerthYogaOptions, DomainOptions {
  database?: DatabaseConfig;
  /** Overrides `config.api.port` (0 picks a free port). */
  port?: number;
  /** Overrides `config.api.metricsPort` (0 picks a free port). */
  metricsPort?: number;
}

/** Opens the services and listens; `close()` stops accepting, drains, then releases everything. */
export async function startServer(config: BerthConfig, options: StartServerOptions = {}): Promise<StartedServer> {
  const services = await createServices(config, { database: options.database, runtime: options.runtime, background: options.background });
  const yoga = createBerthYoga(services, options);
  const server = createServer(yoga);
  const wss = attachWebSocket(server, yoga, services);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? config.api.port, config.api.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await services.close();
    throw error;
  }
  const metricsPort = options.metricsPort ?? config.api.metricsPort;
  let metrics: Awaited<ReturnType<typeof listenForMetrics>> | undefined;
  if (metricsPort !== undefined) {
    try {
      metrics = await listenForMetrics(config.api.host, metricsPort, config.api.metricsToken);
    } catch (error) {
      server.close();
      await services.close();
      throw error;
    }
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Background work first: no reconcile pass acts on pods while the process goes away.
      await services.stopBackground();
      // Live streams (SSE, WebSocket) never finish by themselves: end them now, not after the grace period.
      services.subscriptions.endAll();
      for (const client of wss.clients) client.close(1001, "server shutting down");
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await drained;
      clearTimeout(timer);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await metrics?.close();
      await services.close();
    })());

  return { url: `http://${host}:${address.port}`, metricsUrl: metrics ? `http://${host}:${metrics.port}` : undefined, services, close };
}

/** Start-up failures that are the operator's to fix: one line, no stack. */
function isExpectedStartupError(error: unknown): error is Error {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof DataDirInUseError) return true;
  if (error instanceof RedisUnavailableError || error instanceof MigrationError) return true;
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL";
}

function fail(error: Error): never {
  process.stderr.write(`berth: ${error.message.split("\n")[0]}\n`);
  process.exit(1);
}

function boxed(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = "─".repeat(width + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`].join("\n");
}

/** Reads the configuration; an invalid value ends the process with one line naming it. */
export function loadConfigOrExit(): BerthConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error);
    throw error;
  }
}

export interface RunApiOptions {
  /** Runs once the API listens; what it returns is called first at shutdown. */
  onStarted?: (started: StartedServer) => Promise<(() => Promise<void>) | void>;
}

/** The API as a program: cluster line, services, background jobs, bootstrap token, signals. */
export async function runApi(options: RunApiOptions = {}): Promise<StartedServer> {
  const config = loadConfigOrExit();
  console.log(describeCluster(config.cluster));

  let started: StartedServer;
  try {
    started = await startServer(config, { background: true });
  } catch (error) {
    if (isExpectedStartupError(error)) fail(error);
    throw error;
  }
  if (await ensureDemoPool(config, started.services.pools)) console.log("berth: created the demo pool `demo` (1 to 4 pods of 3 slots)");
  if (started.services.bootstrapToken) {
    console.log(
      boxed([
        "Berth created an admin API token. It is shown only this once:",
        "",
        started.services.bootstrapToken,
        "",
        "Send it as `Authorization: Bearer <token>`. To choose it yourself, set BERTH_ADMIN_TOKEN.",
      ]),
    );
  }
  console.log(`berth: API listening on ${started.url}`);
  const stopExtra = await options.onStarted?.(started);

  const shutdown = (signal: string) => {
    console.log(`berth: ${signal} received, shutting down`);
    Promise.resolve(stopExtra?.())
      .then(() => started.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`berth: shutdown failed: ${(error as Error)?.message ?? error}\n`);
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  return started;
}

function executedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (executedDirectly()) await runApi();
