export type { AcquireOptions, Lock, LockBackend, LockInfo, LockService } from "./types.js";
export { InvalidLockRequestError, LockLostError, type LockLossReason } from "./errors.js";
export { createLockService } from "./service.js";
export { createMemoryLockService, createMemoryLockStore, type MemoryLockServiceOptions, type MemoryLockStore } from "./memory.js";
export { createRedisLockService, type RedisLockServiceOptions } from "./redis.js";
