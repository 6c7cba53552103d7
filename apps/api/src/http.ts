import { registry } from "@berth/core/metrics";
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Plugin } from "graphql-yoga";
import type { Services } from "./services.js";

/** The server's own fetch classes: a Response of theirs may carry a Node stream, which the server pipes as it is. */
export interface ServerFetch {
  Response: typeof Response;
}

/** Routes other capabilities add beside /graphql. Each gets the request and answers it. */
export interface HttpRoutes {
  /** `/files/<key>?...`: share-link downloads, and streamed uploads (PUT). */
  files?: (request: Request, fetch: ServerFetch, serverContext?: { req?: IncomingMessage }) => Promise<Response> | Response;
}

const READINESS_TIMEOUT_MS = 2_000;

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * The Prometheus registry. Pool names and load are not for anonymous eyes: with `token` set the
 * scrape needs `Authorization: Bearer <token>` (Prometheus: `authorization.credentials_file`).
 * On the API port an unset METRICS_TOKEN means /metrics is not served there at all
 * (`open: false`); the METRICS_PORT listener, meant for a private network, is `open`.
 */
export async function metricsResponse(request: Request, options: { token?: string; open: boolean }, ResponseClass: typeof Response = Response): Promise<Response> {
  const { token, open } = options;
  if (token === undefined && !open) {
    return new ResponseClass("/metrics is served on METRICS_PORT, or here once METRICS_TOKEN is set\n", { status: 404, headers: { "content-type": "text/plain" } });
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (token !== undefined && (!given || !sameSecret(given, token))) {
    return new ResponseClass("/metrics needs Authorization: Bearer <METRICS_TOKEN>\n", { status: 401, headers: { "content-type": "text/plain", "www-authenticate": "Bearer" } });
  }
  return new ResponseClass(await registry.metrics(), { headers: { "content-type": registry.contentType } });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
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
        endResponse(await metricsResponse(request, { token: services.config.api.metricsToken, open: false }, fetchAPI.Response));
      } else if (pathname.startsWith("/files/") && routes.files) {
        endResponse(await routes.files(request, fetchAPI, serverContext as { req?: IncomingMessage } | undefined));
      }
    },
  };
}

/**
 * METRICS_PORT: /metrics alone on a listener of its own, for a Prometheus on a private network
 * (in Kubernetes, a port the Service does not expose). Everything else there is a 404.
 */
export async function listenForMetrics(host: string, port: number, token: string | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://metrics.invalid");
    if (url.pathname !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    const headers = new Headers();
    if (req.headers.authorization) headers.set("authorization", req.headers.authorization);
    void metricsResponse(new Request(url, { headers }), { token, open: true }).then(
      async (response) => res.writeHead(response.status, Object.fromEntries(response.headers)).end(req.method === "HEAD" ? undefined : await response.text()),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
