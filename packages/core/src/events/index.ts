export type { Assignment, BerthEvents, Channel, CronRunUpdated, EventBus, EventOf, PoolChanged, SlotChanged } from "./types.js";
export { createMemoryEventBus } from "./memory.js";
export { createRedisEventBus, type RedisEventBus, type RedisEventBusOptions } from "./redis.js";
export { createSubscriptionQueue } from "./queue.js";
