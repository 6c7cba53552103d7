import type { VerifiedApiToken } from "@berth/core/tokens";
import type { Plugin } from "graphql-yoga";
import type { Services } from "../services.js";
import type { ServerContext } from "../yoga.js";
import { admit, clientAddress, refusal } from "./admission.js";

const admitted = new WeakMap<Request, VerifiedApiToken>();

/** The token a GraphQL request over HTTP was admitted with (see `authentication`). */
export function admittedToken(request: Request | undefined): VerifiedApiToken | null {
  return (request && admitted.get(request)) ?? null;
}

/**
 * Every GraphQL request over HTTP is admitted before its body is read: without a valid token
 * it gets 401 (so no introspection and no "Did you mean" suggestion reach anonymous clients),
 * past its budget 429 with Retry-After. The context reuses the verified token.
 */
export function authentication(services: Pick<Services, "prisma" | "budget">): Plugin<ServerContext> {
  return {
    async onRequestParse({ request, serverContext, endResponse, fetchAPI }) {
      const admission = await admit(services, request.headers.get("authorization"), clientAddress((serverContext as ServerContext | undefined)?.req));
      if (!admission.admitted) return endResponse(refusal(admission, fetchAPI.Response));
      admitted.set(request, admission.auth);
    },
  };
}
