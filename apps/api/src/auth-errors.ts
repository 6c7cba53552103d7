import { GraphQLError } from "graphql";

/** Errors raised before a resolver runs; GraphQLErrors, so yoga shows them unmasked. */
export function unauthenticated(tokenRejected: boolean): GraphQLError {
  return new GraphQLError(
    tokenRejected ? "the API token is unknown or revoked" : "authentication required: send Authorization: Bearer <token>",
    { extensions: { code: "UNAUTHENTICATED" } },
  );
}

export function rateLimited(retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(`too many requests: this client's budget for the minute is spent; try again in ${retryAfterSeconds} s`, {
    extensions: { code: "RATE_LIMITED", retryAfter: retryAfterSeconds },
  });
}

export function forbidden(role: string, typeName: string, fieldName: string): GraphQLError {
  return new GraphQLError(`${role} tokens may not use ${typeName}.${fieldName}`, { extensions: { code: "FORBIDDEN" } });
}

export function invalidInput(issues: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }[]): GraphQLError {
  const describe = (issue: (typeof issues)[number]) => {
    const path = issue.path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  };
  return new GraphQLError(`invalid input: ${issues.map(describe).join("; ")}`, { extensions: { code: "BAD_USER_INPUT" } });
}

/** A GraphQL error as an HTTP response of its own, for requests refused before any GraphQL work. */
export function errorResponse(error: GraphQLError, status: number, headers: Record<string, string> = {}, ResponseClass: typeof Response = Response): Response {
  return new ResponseClass(JSON.stringify({ errors: [{ message: error.message, extensions: error.extensions }] }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}
