import { GraphQLError, type ExecutionArgs } from "graphql";
import { CloseCode, type SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import type { IncomingMessage, Server } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { authorizationFromConnectionParams } from "./context.js";
import { rateLimited, unauthenticated } from "./auth-errors.js";
import { admit, clientAddress } from "./policy/admission.js";
import { subscriptionLimit } from "./policy/subscriptions.js";
import type { Services } from "./services.js";
import type { BerthYoga } from "./yoga.js";

type Enveloped = ReturnType<BerthYoga["getEnveloped"]>;
type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: Enveloped["execute"]; subscribe: Enveloped["subscribe"] } };
type Extra = { socket: WebSocket; request: IncomingMessage };

const releases = new WeakMap<object, () => void>();

function withoutHttp(error: GraphQLError | { message: string; extensions?: Record<string, unknown> }) {
  const json = "toJSON" in error && typeof error.toJSON === "function" ? error.toJSON() : error;
  if (!json.extensions || !("http" in json.extensions)) return json;
  const { http: _http, ...extensions } = json.extensions;
  return { ...json, extensions };
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's /graphql. Every operation goes
 * through yoga's envelope, so auth, limits, subscription caps and masking are the same as over
 * HTTP. The token comes from the connection params and is admitted when connecting (its budget,
 * or the address's for a wrong one) and checked again for each operation, which spends the
 * budget too; a connection holds at most MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once,
 * and is closed when its token is revoked.
 */
export function attachWebSocket(server: Server, yoga: BerthYoga, services: Services): WebSocketServer {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: services.config.api.maxRequestBytes });
  const perConnection = services.config.api.maxSubscriptionsPerConnection;
  useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const admission = await admit(services, authorizationFromConnectionParams(ctx.connectionParams), clientAddress(ctx.extra.request));
        if (!admission.admitted) {
          if (admission.status === 429) ctx.extra.socket.close(CloseCode.Forbidden, `rate limited: try again in ${admission.headers["retry-after"]} s`);
          // false closes the socket with 4403 Forbidden.
          return false;
        }
        const socket = ctx.extra.socket;
        releases.set(ctx, services.subscriptions.trackConnection(admission.auth.id, () => socket.close(CloseCode.Forbidden, "the API token was revoked")));
        return true;
      },
      onClose: (ctx) => releases.get(ctx)?.(),
      onSubscribe: async (ctx, _id, payload: SubscribePayload) => {
        // This operation is already counted among the connection's.
        if (Object.keys(ctx.subscriptions).length > perConnection) {
          return [subscriptionLimit(`this connection holds ${perConnection} operations already (MAX_SUBSCRIPTIONS_PER_CONNECTION): end one first`)];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          connectionParams: ctx.connectionParams,
          req: ctx.extra.request,
          params: payload,
        });
        const contextValue = await contextFactory();
        if (!contextValue.auth) return [unauthenticated(contextValue.tokenRejected)];
        const retryAfter = await services.budget.spend(contextValue.auth);
        if (retryAfter !== null) return [rateLimited(retryAfter)];
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const args: EnvelopedArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
        return args;
      },
      // `extensions.http` tells yoga an HTTP status; a WebSocket message has none to set.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => withoutHttp(e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => withoutHttp(e)),
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
    },
    wss,
  );
  return wss;
}
