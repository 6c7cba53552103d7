import { registry } from "@berth/core/metrics";
import type { Plugin } from "graphql-yoga";
import type { Services } from "./services.js";

/** The server's own fetch classes: a Response of theirs may carry a Node stream, which the server pipes as it is. */
export interface ServerFetch {
  Response: typeof Response;
}

/** Routes other capabilities add beside /graphql. Each gets the request and answers it. */
export interface HttpRoutes {
  /** `/files/<key>?...`: presigned downloads of the local storage backend. */
  files?: (request: Request, fetch: ServerFetch) => Promise<Response> | Response;
}

const READINESS_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs every readiness check at once; a check that throws or hangs names its reason. */
export async function checkReadiness(services: Services): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    [...services.readiness].map(async ([name, check]) => {
      try {
        await withTimeout(check(), READINESS_TIMEOUT_MS, name);
        return [name, "ok"] as const;
      } catch (error) {
        return [name, String((error as Error)?.message ?? error).split("\n")[0]!] as const;
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { ready: entries.every(([, status]) => status === "ok"), checks };
}

/**
 * /healthz (the process is up), /readyz (its dependencies answer), /metrics (Prometheus) and
 * the file routes, served by the same yoga instance as /graphql so that `yoga.fetch` reaches all.
 */
export function httpRoutes(services: Services, routes: HttpRoutes = {}): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const { pathname } = url;
      if (pathname === "/healthz") {
        endResponse(new fetchAPI.Response("ok", { headers: { "content-type": "text/plain" } }));
      } else if (pathname === "/readyz") {
        const { ready, checks } = await checkReadiness(services);
        endResponse(
          new fetchAPI.Response(JSON.stringify({ status: ready ? "ready" : "not ready", checks }), {
            status: ready ? 200 : 503,
            headers: { "content-type": "application/json" },
          }),
        );
      } else if (pathname === "/metrics") {
        endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }));
      } else if (pathname.startsWith("/files/") && routes.files) {
        endResponse(await routes.files(request, fetchAPI));
      }
    },
  };
}
