// Real PostgreSQL and Redis for tests. Under REQUIRE_SERVICES=1 (CI) a missing service
// fails the run; otherwise tests that need it are skipped with the reason.
import net from "node:net";

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const servicesRequired = process.env.REQUIRE_SERVICES === "1" || process.env.REQUIRE_SERVICES === "true";

export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol.startsWith("redis") ? 6379 : 5432));
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Whether a test needing `url` may run; throws under REQUIRE_SERVICES when it cannot. */
export async function serviceAvailable(name: string, url: string): Promise<boolean> {
  const ok = await reachable(url);
  if (!ok && servicesRequired) {
    throw new Error(`${name} at ${url} is unreachable and REQUIRE_SERVICES=1: start it (see TOOLCHAIN notes in the README)`);
  }
  return ok;
}

export const postgresAvailable = await serviceAvailable("PostgreSQL", POSTGRES_URL);
export const redisAvailable = await serviceAvailable("Redis", REDIS_URL);
