import { verifyApiToken, type VerifiedApiToken } from "@berth/core/tokens";
import type { GraphQLError } from "graphql";
import type { IncomingMessage } from "node:http";
import { errorResponse, rateLimited, unauthenticated } from "../auth-errors.js";
import { bearerToken } from "../context.js";
import type { Services } from "../services.js";

export type Admission =
  | { admitted: true; auth: VerifiedApiToken }
  | { admitted: false; status: 401 | 429; error: GraphQLError; headers: Record<string, string> };

/** Where a request comes from, for the budget of requests without a valid token. */
export function clientAddress(req: IncomingMessage | undefined): string {
  return req?.socket?.remoteAddress ?? "local";
}

/**
 * The door every request passes before any GraphQL work (parsing, validation, suggestions,
 * introspection): a valid token within its budget, or a 401 / 429. Requests without a valid
 * token spend the budget of their address, so guessing tokens (through the API or the
 * console's sign-in form, which asks the API) is slowed down; a valid token never is by it.
 */
export async function admit(services: Pick<Services, "prisma" | "budget">, authorization: string | null | undefined, address: string): Promise<Admission> {
  const token = bearerToken(authorization);
  const auth = token ? await verifyApiToken(services.prisma, token) : null;
  const retryAfter = auth ? await services.budget.spend(auth) : await services.budget.spendFailure(address);
  if (retryAfter !== null) return { admitted: false, status: 429, error: rateLimited(retryAfter), headers: { "retry-after": String(retryAfter) } };
  if (!auth) {
    return { admitted: false, status: 401, error: unauthenticated(typeof authorization === "string" && authorization.length > 0), headers: { "www-authenticate": "Bearer" } };
  }
  return { admitted: true, auth };
}

export function refusal(admission: Extract<Admission, { admitted: false }>, ResponseClass?: typeof Response): Response {
  return errorResponse(admission.error, admission.status, admission.headers, ResponseClass);
}
