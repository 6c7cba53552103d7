import { GraphQLSchema } from "graphql";
import { builder } from "../builder.js";
import "./errors.js";
import "./cluster.js";
import "./tokens.js";
import "./pools.js";
import "./pods.js";
import "./tasks.js";
import "./agents.js";
import "./logs.js";
import "./live.js";
import "./cron.js";
import "./schedules.js";
import "./locks.js";
import "./storage.js";
import "./audit.js";

function withoutEmptySubscription(schema: GraphQLSchema): GraphQLSchema {
  // builder.ts declares Subscription (with its default scope) for the files that add to it;
  // GraphQL forbids a root type without fields, so it is left out while none has.
  const subscription = schema.getSubscriptionType();
  if (!subscription || Object.keys(subscription.getFields()).length > 0) return schema;
  const config = schema.toConfig();
  return new GraphQLSchema({ ...config, subscription: undefined, types: config.types.filter((type) => type !== subscription) });
}

export const schema = withoutEmptySubscription(builder.toSchema());
