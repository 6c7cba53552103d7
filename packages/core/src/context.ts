import type { PrismaClient } from "./db/index.js";
import type { EventBus } from "./events/index.js";

/** What domain functions need: the database, the event bus, and a clock tests can move. */
export interface CoreContext {
  prisma: PrismaClient;
  events: EventBus;
  now: () => Date;
}
