import type { Plugin } from "graphql-yoga";
import type { Services } from "../services.js";
import { authentication } from "./authentication.js";
import { introspectionLimits } from "./introspection.js";
import { refuseNulCharacters } from "./input.js";
import { graphqlUploadLimit, queryLimits, requestBodyLimit } from "./limits.js";
import { boundedSubscriptions } from "./subscriptions.js";

export { admittedToken } from "./authentication.js";
export { dedupeRootQueries } from "./dedupe.js";

/**
 * The API's policy towards clients, as yoga/envelop plugins in the order a request meets them:
 *   1. admission: a valid token within its request budget, before the body is read (401 / 429);
 *   2. the body's size (413, naming the limit that applies);
 *   3. the document: tokens, depth, introspection's own bounds, NUL characters, then its cost,
 *      which prices each list by what it returns (before any resolver runs).
 *   4. subscriptions: a place within the token's cap, given back when they end, and an end
 *      with TOKEN_REVOKED when the token is revoked (subscriptions.ts); each subscriber's queue
 *      is bounded (shared-subscriptions.ts).
 * Identical root query fields run once (dedupe.ts, applied to the schema). WebSocket
 * connections go through the same plugins, plus their own admission and per-connection cap (ws.ts).
 */
export function apiPolicy(services: Services): Plugin[] {
  const { api, storage } = services.config;
  return [
    authentication(services) as Plugin,
    requestBodyLimit(api.maxRequestBytes, graphqlUploadLimit(api.maxGraphqlUploadBytes, storage.maxUploadBytes)),
    ...queryLimits(api, services.listSizes),
    introspectionLimits(),
    refuseNulCharacters(),
    boundedSubscriptions(services.subscriptions),
  ];
}
