// One Berth API as its own OS process, for benchmarks that must not share an event loop with
// their clients. The parent passes the environment to load the configuration from
// (BENCH_API_ENV, JSON); this process answers `listening` with its URL and stops on `stop`.
// The pod runtime is in memory, and background jobs (cron: reconcile, schedules) are off unless
// BENCH_API_BACKGROUND=true: by default only the API itself runs here, with its default routes
// (GraphQL, PUT /files/<key> uploads, presigned downloads).
import { loadConfig } from "@berth/core/cluster";
import { startServer } from "../../apps/api/src/server.js";
import { MemoryRuntime } from "./memory-runtime.js";
import { parentChannel } from "./processes.js";

const { send, next } = parentChannel();
const stop = next("stop");
const config = loadConfig({ API_HOST: "127.0.0.1", LOG_LEVEL: "error", ...(JSON.parse(process.env.BENCH_API_ENV ?? "{}") as Record<string, string>) });
const server = await startServer(config, {
  port: 0,
  runtime: new MemoryRuntime(),
  background: process.env.BENCH_API_BACKGROUND === "true",
});
await send({ type: "listening", url: server.url });
await stop;
await server.close();
process.exit(0);
