import { GraphQLError } from "graphql";

/** Errors raised before a resolver runs; GraphQLErrors, so yoga shows them unmasked. */
export function unauthenticated(tokenRejected: boolean): GraphQLError {
  return new GraphQLError(
    tokenRejected ? "the API token is unknown or revoked" : "authentication required: send Authorization: Bearer <token>",
    { extensions: { code: "UNAUTHENTICATED" } },
  );
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
