export type { Assignment, BerthEvents, TaskLogAppended, TokenRevoked, Channel, CronRunUpdated, EventBus, EventOf, PoolChanged, PoolDemand, Resync, SlotChanged } from "./types.js";
export { isResync } from "./types.js";
export { withResync } from "./resync.js";
export { createMemoryEventBus } from "./memory.js";
export { createRedisEventBus, type RedisEventBus, type RedisEventBusOptions } from "./redis.js";
export { createSubscriptionQueue, DEFAULT_QUEUE_LIMIT, SubscriptionOverflowError, type SubscriptionQueueOptions } from "./queue.js";
