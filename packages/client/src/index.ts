export { BerthClient, createBerthClient, type BerthClientOptions, type LiveSubscription, type SubscriptionHandlers } from "./client.js";
export { BerthApiError, BerthLogGapError, BerthMutationError, type GraphQLErrorBody } from "./errors.js";
export * from "./generated/graphql.js";
