import { GraphQLError, type ExecutionArgs } from "graphql";
import type { SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import type { Server } from "node:http";
import { WebSocketServer } from "ws";
import { authorizationFromConnectionParams, createContext } from "./context.js";
import { unauthenticated } from "./auth-errors.js";
import type { Services } from "./services.js";
import type { BerthYoga } from "./yoga.js";

type Enveloped = ReturnType<BerthYoga["getEnveloped"]>;
type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: Enveloped["execute"]; subscribe: Enveloped["subscribe"] } };

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's /graphql. Every operation goes
 * through yoga's envelope, so auth, limits and masking are the same as over HTTP. The token
 * comes from the connection params and is checked when connecting and again for each
 * operation, so a token revoked mid-connection cannot start anything new.
 */
export function attachWebSocket(server: Server, yoga: BerthYoga, services: Services): WebSocketServer {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: services.config.api.maxRequestBytes });
  useServer(
    {
      onConnect: async (ctx) => {
        const context = await createContext(services, authorizationFromConnectionParams(ctx.connectionParams));
        // false closes the socket with 4403 Forbidden.
        return context.auth !== null;
      },
      onSubscribe: async (ctx, _id, payload: SubscribePayload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          connectionParams: ctx.connectionParams,
          req: ctx.extra.request,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const contextValue = await contextFactory();
        if (!contextValue.auth) return [unauthenticated(contextValue.tokenRejected)];
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
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
    },
    wss,
  );
  return wss;
}
