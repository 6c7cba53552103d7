// Raw Redis pub/sub between two processes, as the baseline of cross-replica events: every
// message on `<prefix>echo:ping` is published back on `<prefix>echo:pong` at once.
import { Redis } from "ioredis";
import { parentChannel } from "./processes.js";

const { send, next } = parentChannel();
const stop = next("stop");
const url = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = process.env.BENCH_REDIS_PREFIX ?? "berth-bench:";
const publisher = new Redis(url);
const subscriber = new Redis(url);
subscriber.on("message", (_channel: string, message: string) => {
  void publisher.publish(`${prefix}echo:pong`, message);
});
await subscriber.subscribe(`${prefix}echo:ping`);
await send({ type: "ready" });
await stop;
subscriber.disconnect();
publisher.disconnect();
process.exit(0);
