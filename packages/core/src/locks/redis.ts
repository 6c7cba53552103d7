import type { Redis } from "ioredis";
import { createLockService } from "./service.js";
import type { LockBackend, LockInfo, LockService } from "./types.js";

// The stored value is "<token>:<acquired ms>:<holder>": release and extend compare it whole,
// so they never touch a lock that expired and was taken by someone else meanwhile.
// The fencing counter never falls below the server's time in ms × 1000, so tokens keep growing
// even when Redis lost the counter (a restart without persistence, a failover): the first token
// after that is above any handed out before, unless over 1,000 per ms had been.
const ACQUIRE = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = redis.call('incr', KEYS[2])
if token < now * 1000 then
  token = now * 1000
  redis.call('set', KEYS[2], string.format('%d', token))
end
redis.call('set', KEYS[1], string.format('%d', token) .. ':' .. string.format('%d', now) .. ':' .. ARGV[1], 'PX', ARGV[2], 'NX')
return {token, now}`;

const EXTEND = `
local v = redis.call('get', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('pexpire', KEYS[1], ARGV[2])
local t = redis.call('time')
return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

interface LockCommands {
  berthLockAcquire(lockKey: string, fenceKey: string, holder: string, ttlMs: number): Promise<[number, number] | 0>;
  berthLockExtend(lockKey: string, value: string, ttlMs: number): Promise<number>;
  berthLockRelease(lockKey: string, value: string): Promise<number>;
}

function withLockCommands(redis: Redis): Redis & LockCommands {
  const r = redis as Redis & Partial<LockCommands>;
  if (typeof r.berthLockAcquire !== "function") {
    redis.defineCommand("berthLockAcquire", { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand("berthLockExtend", { numberOfKeys: 1, lua: EXTEND });
    redis.defineCommand("berthLockRelease", { numberOfKeys: 1, lua: RELEASE });
  }
  return redis as Redis & LockCommands;
}

const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");

export function parseLockValue(key: string, value: string, ttlLeftMs: number, now: number): LockInfo | null {
  const match = /^(\d+):(\d+):(.*)$/s.exec(value);
  if (!match || ttlLeftMs < 0) return null;
  return { key, fencingToken: Number(match[1]), acquiredAt: new Date(Number(match[2])), holder: match[3]!, expiresAt: new Date(now + ttlLeftMs) };
}

export interface RedisLockServiceOptions {
  replicaId: string;
  /** Namespace of every key this service writes, e.g. "berth:". */
  prefix: string;
}

/** The cluster LockService: locks in Redis, visible to and exclusive across every replica. */
export function createRedisLockService(redis: Redis, { replicaId, prefix }: RedisLockServiceOptions): LockService {
  const r = withLockCommands(redis);
  const lockKey = (key: string) => `${prefix}lock:${key}`;
  const fenceKey = (key: string) => `${prefix}fence:${key}`;

  const backend: LockBackend = {
    async tryAcquire(key, holder, ttlMs) {
      const result = await r.berthLockAcquire(lockKey(key), fenceKey(key), holder, ttlMs);
      if (!Array.isArray(result)) return null;
      const [fencingToken, acquiredMs] = result.map(Number) as [number, number];
      return { fencingToken, value: `${fencingToken}:${acquiredMs}:${holder}`, acquiredAt: new Date(acquiredMs), expiresAt: new Date(acquiredMs + ttlMs) };
    },
    async extend(key, value, ttlMs) {
      const result = Number(await r.berthLockExtend(lockKey(key), value, ttlMs));
      if (result === 0) return "gone";
      if (result === -1) return "taken";
      return new Date(result);
    },
    async release(key, value) {
      return Number(await r.berthLockRelease(lockKey(key), value)) === 1;
    },
    async list() {
      const locks: LockInfo[] = [];
      const pattern = `${escapeGlob(prefix)}lock:*`;
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 200);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = redis.pipeline();
        for (const k of keys) pipeline.get(k).pttl(k);
        const replies = (await pipeline.exec()) ?? [];
        const now = Date.now();
        keys.forEach((k, i) => {
          const value = replies[2 * i]?.[1];
          const ttl = replies[2 * i + 1]?.[1];
          if (typeof value !== "string" || typeof ttl !== "number") return;
          const info = parseLockValue(k.slice(prefix.length + "lock:".length), value, ttl, now);
          if (info) locks.push(info);
        });
      } while (cursor !== "0");
      return locks.sort((a, b) => a.key.localeCompare(b.key));
    },
  };
  return createLockService(backend, replicaId);
}
