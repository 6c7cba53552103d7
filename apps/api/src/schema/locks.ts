import type { LockInfo } from "@berth/core/locks";
import { builder } from "../builder.js";

export const LockRef = builder.objectRef<LockInfo>("Lock").implement({
  description: "A held distributed lock.",
  fields: (t) => ({
    key: t.exposeString("key"),
    holder: t.exposeString("holder", { description: "The replica holding it." }),
    fencingToken: t.string({ description: "Grows with every acquisition of the key.", resolve: (l) => String(l.fencingToken) }),
    acquiredAt: t.expose("acquiredAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});

builder.queryField("locks", (t) => t.field({ type: [LockRef], resolve: (_r, _a, ctx) => ctx.services.locks.list() }));
