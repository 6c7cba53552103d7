import type { PrismaClient } from "./db/index.js";
import type { EventBus } from "./events/index.js";

/** What domain functions need: the database, the event bus, and a clock tests can move. */
export interface CoreContext {
  prisma: PrismaClient;
  events: EventBus;
  now: () => Date;
  /**
   * New work is placed only on pods whose agent heartbeated within this many seconds (default
   * 15: three of the agents' default 5-second heartbeats). A pod that stopped answering, or one
   * left over from before a restart, gets nothing new until it answers again.
   */
  podFreshSeconds?: number;
}

export const DEFAULT_POD_FRESH_SECONDS = 15;

/** The oldest heartbeat a pod may have to be given new work now. */
export function freshAfter(ctx: CoreContext): Date {
  return new Date(ctx.now().getTime() - (ctx.podFreshSeconds ?? DEFAULT_POD_FRESH_SECONDS) * 1000);
}
