import { createApiToken, listApiTokens, revokeApiToken, type ApiTokenRecord } from "@berth/core/tokens";
import { builder } from "../builder.js";

type CreatedApiToken = ApiTokenRecord & { token: string };

const ApiToken = builder.objectRef<ApiTokenRecord>("ApiToken").implement({
  description: "An API token as lists show it: never its secret.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.exposeString("role", { description: "admin, operator, viewer or agent." }),
    prefix: t.exposeString("prefix", { description: "The first characters of the token, to recognise it." }),
    pool: t.exposeString("pool", { nullable: true, description: "The pool an agent token is limited to." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true, description: "Accurate to a minute." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

const CreatedApiTokenRef = builder.objectRef<CreatedApiToken>("CreatedApiToken").implement({
  description: "A token just created. `token` is its secret, shown this once and never stored.",
  fields: (t) => ({
    token: t.exposeString("token"),
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.exposeString("role"),
    prefix: t.exposeString("prefix"),
    pool: t.exposeString("pool", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const Identity = builder.objectRef<{ id: string; name: string; role: string }>("Identity").implement({
  description: "The token a request acts as.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.exposeString("role"),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: Identity,
    skipTypeScopes: true,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.auth!,
  }),
  apiTokens: t.field({
    type: [ApiToken],
    authScopes: { admin: true },
    args: { includeRevoked: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => listApiTokens(ctx.services.prisma, { includeRevoked: args.includeRevoked ?? false }),
  }),
}));

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedApiTokenRef,
    authScopes: { admin: true },
    errors: {},
    args: {
      name: t.arg.string({ required: true }),
      role: t.arg.string({ required: true, description: "admin, operator, viewer or agent." }),
      pool: t.arg.string({ description: "Limit an agent token to this pool (by name)." }),
    },
    resolve: async (_root, args, ctx) => {
      const { token, record } = await createApiToken(ctx.services.prisma, { name: args.name, role: args.role, pool: args.pool });
      return { ...record, token };
    },
  }),
  revokeApiToken: t.field({
    type: ApiToken,
    description: "Revokes the token at once: its requests are refused from now on, and its open subscriptions end, on every replica.",
    authScopes: { admin: true },
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => revokeApiToken(ctx.services.prisma, String(args.id), { events: ctx.services.events }),
  }),
}));
