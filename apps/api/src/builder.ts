import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import ValidationPlugin from "@pothos/plugin-validation";
import { DateTimeISOResolver, JSONResolver } from "graphql-scalars";
import { forbidden, invalidInput, unauthenticated } from "./auth-errors.js";
import type { BerthContext } from "./context.js";
import { defaultErrorTypes } from "./errors.js";

export interface BerthSchemaTypes {
  Context: BerthContext;
  AuthScopes: {
    /** Any valid token, whatever its role. */
    authenticated: boolean;
    admin: boolean;
    /** admin or operator. */
    operator: boolean;
    /** admin, operator or viewer: people and services, not agents. */
    viewer: boolean;
    /** The process inside a pod; its own scope, not part of the viewer chain. */
    agent: boolean;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    File: { Input: File; Output: never };
  };
  DefaultFieldNullability: false;
}

export const builder = new SchemaBuilder<BerthSchemaTypes>({
  // scope-auth first: its check wraps every other plugin's resolver, so nothing runs before auth.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin, ComplexityPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => {
      const role = ctx.auth?.role;
      return {
        authenticated: role !== undefined,
        admin: role === "admin",
        operator: role === "admin" || role === "operator",
        viewer: role === "admin" || role === "operator" || role === "viewer",
        agent: role === "agent",
      };
    },
    unauthorizedError: (_parent, ctx, info) => (ctx.auth ? forbidden(ctx.auth.role, info.parentType.name, info.fieldName) : unauthenticated(ctx.tokenRejected)),
  },
  errors: { defaultTypes: defaultErrorTypes },
  relay: { clientMutationId: "omit", cursorType: "String", nodeQueryOptions: false, nodesQueryOptions: false },
  // Limits are enforced per request by yoga (see limits.ts); fields set their own `complexity`.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10 },
  validation: { validationError: (failure) => invalidInput(failure.issues) },
});

// Every root field needs a scope even when its file forgets one: reads need viewer, writes
// operator. A field for agents or any token sets `skipTypeScopes: true` with its own scopes.
builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { operator: true } });
builder.subscriptionType({ authScopes: { viewer: true } });

builder.addScalarType("DateTime", DateTimeISOResolver);
builder.addScalarType("JSON", JSONResolver);
builder.scalarType("File", {
  description: "A file sent with the GraphQL multipart request spec.",
  serialize: () => {
    throw new TypeError("File is an input-only scalar");
  },
});
