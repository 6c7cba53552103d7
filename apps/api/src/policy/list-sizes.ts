/**
 * What unbounded lists return, for their query cost: a list costs by the items it returns, and
 * the cost is known before execution. Counts are refreshed at most every `ttlMs`, by one query
 * of the replica, never per request.
 */
export interface ListSizes {
  /** Pools, as last counted. */
  readonly pools: number;
  /** Schedules, as last counted. */
  readonly schedules: number;
  /** Counts again when the last count is older than the TTL; concurrent callers share one query. */
  refresh(): Promise<void>;
}

export function createListSizes(count: { pools: () => Promise<number>; schedules: () => Promise<number> }, ttlMs = 5_000, now = () => Date.now()): ListSizes {
  let pools = 0;
  let schedules = 0;
  let countedAt = -Infinity;
  let pending: Promise<void> | null = null;
  return {
    get pools() {
      return pools;
    },
    get schedules() {
      return schedules;
    },
    refresh() {
      if (now() - countedAt < ttlMs) return Promise.resolve();
      pending ??= Promise.all([count.pools(), count.schedules()])
        .then(([p, s]) => {
          pools = p;
          schedules = s;
          countedAt = now();
        })
        // Unknown stays at the last count: the cost limit must not turn a database hiccup into refusals.
        .catch(() => {})
        .finally(() => (pending = null));
      return pending;
    },
  };
}
