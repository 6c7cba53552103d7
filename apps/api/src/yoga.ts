import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import type { GraphQLSchema } from "graphql";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { IncomingMessage, ServerResponse } from "node:http";
import { auditLog } from "./audit.js";
import { authorizationFromConnectionParams, createContext, type BerthContext } from "./context.js";
import { exposeExpectedErrors } from "./errors.js";
import { fileRoutes } from "./files-route.js";
import { requestMetrics } from "./request-metrics.js";
import { httpRoutes, type HttpRoutes } from "./http.js";
import { admittedToken, apiPolicy, dedupeRootQueries } from "./policy/index.js";
import { schema as berthSchema } from "./schema/index.js";
import type { Services } from "./services.js";
import { sharedSubscriptions } from "./shared-subscriptions.js";
import { withUploads } from "./upload-route.js";

/** What the node server adds to each request's context (absent under `yoga.fetch`). */
export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  /** Set for operations arriving over WebSocket. */
  connectionParams?: Record<string, unknown>;
}

export type BerthYoga = YogaServerInstance<ServerContext, BerthContext>;

export interface BerthYogaOptions {
  /** Extra HTTP routes beside /graphql (the presigned `/files/...` downloads), or a function of the services that builds them. */
  routes?: HttpRoutes | ((services: Services) => HttpRoutes);
  schema?: GraphQLSchema;
  plugins?: Plugin[];
}

export const CSRF_HEADER = "x-graphql-yoga-csrf";

const EXPLORER_NOTICE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Berth GraphQL API</title></head>
<body><h1>Berth GraphQL API</h1><p>The GraphQL explorer is part of the console: sign in to the console and open <code>/explorer</code>.
Every request to this endpoint needs <code>Authorization: Bearer &lt;token&gt;</code>.</p></body></html>`;

/** Builds the GraphQL server for `services`; `server.ts` only listens. Tests call `yoga.fetch`. */
export function createBerthYoga(services: Services, options: BerthYogaOptions = {}): BerthYoga {
  const { api, storage, cluster, logLevel } = services.config;
  return createYoga<ServerContext, BerthContext>({
    schema: dedupeRootQueries(options.schema ?? berthSchema),
    context: (initial) => {
      // HTTP requests were admitted with their token already (policy/authentication.ts); WebSocket operations bring theirs.
      const auth = admittedToken(initial.request);
      if (auth) return { services, auth, tokenRejected: false };
      return createContext(services, authorizationFromConnectionParams(initial.connectionParams) ?? initial.request?.headers.get("authorization"));
    },
    // Unexpected errors reach clients as "Unexpected error." with no details, in every environment;
    // expected ones (core's typed errors) raised outside a result union keep their message and a code.
    maskedErrors: { isDev: false, maskError: exposeExpectedErrors },
    // Yoga's own GraphiQL loads its scripts from a CDN, which no offline or locked-down network
    // reaches: a browser that opens /graphql is pointed at the console's bundled explorer instead.
    graphiql: cluster.environment !== "production",
    renderGraphiQL: () => EXPLORER_NOTICE,
    landingPage: false,
    logging: logLevel,
    // The overall cap; bodies are held to MAX_REQUEST_BYTES, multipart uploads to MAX_GRAPHQL_UPLOAD_BYTES, below.
    maxRequestBodySize: api.maxRequestBytes + Math.min(storage.maxUploadBytes, api.maxGraphqlUploadBytes),
    plugins: [
      // First, so that it sees every request, those the routes below answer included.
      requestMetrics(),
      httpRoutes(services, typeof options.routes === "function" ? options.routes(services) : (options.routes ?? withUploads(services, fileRoutes(services)))),
      // Browsers send forms and multipart without a preflight; such requests must carry this header.
      // JSON requests are preflighted by browsers and pass, so scripts need nothing extra.
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      ...apiPolicy(services),
      sharedSubscriptions({ queueLimit: api.subscriptionQueueLimit }),
      auditLog(),
      ...(options.plugins ?? []),
    ],
  });
}
