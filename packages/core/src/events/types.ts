import type { SlotState } from "../generated/prisma/enums.js";

export interface SlotChanged {
  pool: string;
  pod: string;
  index: number;
  state: SlotState;
  taskId: string | null;
  /** ISO-8601 time of the change. */
  at: string;
  /** The slot's current state, re-sent after events may have been lost (not a change). */
  resync?: boolean;
}

export interface PoolChanged {
  name: string;
  podCount: number;
  utilization: number;
  /** True when the pool was deleted. */
  deleted?: boolean;
  at: string;
  /** The pool's current state, re-sent after events may have been lost (not a change). */
  resync?: boolean;
}

/** A task placed on a slot of `pod`: what the pod's agent receives. */
export interface Assignment {
  pod: string;
  slotIndex: number;
  taskId: string;
  /** `run` for a new task, `apply` after approval. */
  action: "run" | "apply" | "cancel";
}

export interface CronRunUpdated {
  id: string;
  job: string;
  status: string;
  durationMs: number | null;
}

/** A token was revoked: every replica ends what it still serves for it (open subscriptions). */
export interface TokenRevoked {
  tokenId: string;
  at: string;
}

/** Work arrived in a pool that may need pods: the replicas' controllers run its pass at once. */
export interface PoolDemand {
  poolId: string;
  at: string;
}

/** Bytes appended to a task's log, or (`end`) the log is complete: it was moved to storage. */
export interface TaskLogAppended {
  taskId: string;
  /** Byte offset (UTF-8) of `data` in the log. */
  offset: number;
  /** The bytes appended, when small; null for a large chunk (a follower reads it from the log), so no queue holds much. */
  data: string | null;
  /** The log's size after this chunk. */
  size: number;
  /** The log outgrew its cap: a reader later sees its head and tail only. */
  truncated: boolean;
  end: boolean;
}

/** One typed event map for everything live: channel name → payload. */
export interface BerthEvents {
  [channel: `slot:${string}`]: SlotChanged;
  [channel: `assignment:${string}`]: Assignment;
  [channel: `taskLog:${string}`]: TaskLogAppended;
  pool: PoolChanged;
  cronRun: CronRunUpdated;
  tokenRevoked: TokenRevoked;
  poolDemand: PoolDemand;
}

export type Channel = keyof BerthEvents & string;
export type EventOf<C extends string> = C extends `slot:${string}`
  ? SlotChanged
  : C extends `assignment:${string}`
    ? Assignment
    : C extends `taskLog:${string}`
      ? TaskLogAppended
      : C extends "pool"
      ? PoolChanged
      : C extends "cronRun"
        ? CronRunUpdated
        : C extends "tokenRevoked"
          ? TokenRevoked
          : C extends "poolDemand"
            ? PoolDemand
            : never;

/**
 * Delivered in place of events that may have been lost: the bus lost its connection for a
 * while (Redis pub/sub keeps nothing for a disconnected subscriber). A consumer re-reads the
 * truth from the database, then goes on with the events that follow.
 */
export interface Resync {
  resync: true;
  reason: "reconnected";
  at: string;
}

export const isResync = (event: unknown): event is Resync => typeof event === "object" && event !== null && (event as { resync?: unknown }).resync === true;

/**
 * Publish/subscribe for live changes. `memory` serves one process; `redis` fans out to every
 * replica, so a subscriber on replica B sees what replica A published.
 */
export interface EventBus {
  publish<C extends string>(channel: C, event: EventOf<C>): Promise<void>;
  /**
   * An async iterator of the channel's events from now on, with a Resync wherever events may
   * have been lost; ends when `signal` aborts or `return()` is called.
   */
  subscribe<C extends string>(channel: C, signal?: AbortSignal): AsyncIterableIterator<EventOf<C> | Resync>;
  close(): Promise<void>;
}
