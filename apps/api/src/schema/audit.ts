import { auditCursor, listAudit, MAX_AUDIT_PAGE } from "@berth/core/audit";
import type { AuditEntry } from "@berth/core/db";
import { builder } from "../builder.js";

const AuditEntryRef = builder.objectRef<AuditEntry>("AuditEntry").implement({
  description: "One mutation made through the API: who, when, what on what, and how it ended. Never a secret nor a payload.",
  fields: (t) => ({
    id: t.exposeID("id"),
    at: t.expose("at", { type: "DateTime" }),
    actor: t.exposeString("actor", { description: "The name of the token that made the call." }),
    role: t.exposeString("role", { description: "That token's role." }),
    operation: t.exposeString("operation", { description: "The mutation, e.g. submitTask, or uploadFile for PUT /files." }),
    target: t.exposeString("target", { nullable: true, description: "What it acted on: an id or a name." }),
    outcome: t.exposeString("outcome", { description: "ok, or the error code it ended with." }),
  }),
});

const AuditFilterInput = builder.inputType("AuditFilter", {
  fields: (t) => ({
    actor: t.string({ description: "Token name." }),
    operation: t.string(),
    target: t.string({ description: "Part of the target." }),
    outcome: t.string({ description: "ok, an error code, or error for every failure." }),
    from: t.field({ type: "DateTime", description: "At or after." }),
    to: t.field({ type: "DateTime", description: "Before." }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.connection(
    {
      type: AuditEntryRef,
      authScopes: { admin: true },
      description: `Who did what, newest first; page forward with first/after (at most ${MAX_AUDIT_PAGE}). Admin tokens only.`,
      args: { filter: t.arg({ type: AuditFilterInput }) },
      complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 50, MAX_AUDIT_PAGE) / 10 }),
      resolve: async (_r, args, ctx) => {
        const page = await listAudit(ctx.services.core, { first: args.first ?? 50, after: args.after, filter: { ...args.filter } });
        return {
          edges: page.entries.map((entry) => ({ cursor: auditCursor(entry), node: entry })),
          pageInfo: { ...page.pageInfo, hasPreviousPage: args.after != null },
        };
      },
    },
    { name: "AuditConnection" },
    { name: "AuditEdge" },
  ),
}));
