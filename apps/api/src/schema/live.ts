import { withResync, type PoolChanged, type SlotChanged } from "@berth/core/events";
import { getPool, poolStates, slotStates } from "@berth/core/pools";
import { builder } from "../builder.js";

const SlotChangedRef = builder.objectRef<SlotChanged>("SlotChanged").implement({
  description: "One slot's new state.",
  fields: (t) => ({
    pool: t.exposeString("pool"),
    pod: t.exposeString("pod"),
    index: t.exposeInt("index"),
    state: t.exposeString("state", { description: "idle, running or reserved." }),
    taskId: t.exposeID("taskId", { nullable: true }),
    at: t.exposeString("at", { description: "ISO-8601 time of the change." }),
    resync: t.boolean({
      resolve: (e) => e.resync ?? false,
      description: "True when this is the slot's current state re-sent after the server's event stream was interrupted (events may have been lost), not a change.",
    }),
  }),
});

const PoolChangedRef = builder.objectRef<PoolChanged>("PoolChanged").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    podCount: t.exposeInt("podCount"),
    utilization: t.exposeFloat("utilization"),
    deleted: t.boolean({ resolve: (e) => e.deleted ?? false }),
    at: t.exposeString("at"),
    resync: t.boolean({ resolve: (e) => e.resync ?? false, description: "True when this is the pool's current state re-sent after events may have been lost." }),
  }),
});

builder.subscriptionFields((t) => ({
  slotChanged: t.field({
    type: SlotChangedRef,
    description:
      "Every slot change of the pool, live (across replicas in cluster mode). After an interruption of the server's event stream, every slot's current state is sent again (resync: true).",
    args: { pool: t.arg.string({ required: true }) },
    subscribe: async (_r, args, ctx) => {
      await getPool(ctx.services.core, args.pool);
      return withResync(ctx.services.events.subscribe(`slot:${args.pool}`), () => slotStates(ctx.services.core, args.pool));
    },
    resolve: (event) => event,
  }),
  poolChanged: t.field({
    type: PoolChangedRef,
    description: "Pool-level changes: pods added or removed, utilisation, deletion.",
    subscribe: (_r, _a, ctx) => withResync(ctx.services.events.subscribe("pool"), () => poolStates(ctx.services.core)),
    resolve: (event) => event,
  }),
}));
