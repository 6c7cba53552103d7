import { Counter, metric, registry } from "../metrics/index.js";

/**
 * Transactions retried because PostgreSQL aborted them with a deadlock (40P01) or a
 * serialization failure (40001). With one lock order on every path this stays at zero for
 * deadlocks; the retry keeps a client from ever seeing one if a path slips.
 */
export const dbRetries = metric(
  "berth_db_retries_total",
  () => new Counter({ name: "berth_db_retries_total", help: "Transactions retried after a deadlock or serialization failure", labelNames: ["reason"], registers: [registry] }),
);

const RETRIABLE: Record<string, string> = { "40P01": "deadlock", "40001": "serialization" };

function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: unknown; meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } }; cause?: unknown };
    for (const code of [x.code, x.meta?.code, x.meta?.driverAdapterError?.cause?.originalCode, x.meta?.driverAdapterError?.cause?.code]) {
      if (typeof code === "string" && code in RETRIABLE) return code;
    }
    const text = e instanceof Error ? e.message : "";
    if (/deadlock detected/i.test(text)) return "40P01";
    if (/could not serialize access/i.test(text)) return "40001";
    e = x.cause;
  }
  return undefined;
}

/** Runs `fn` (a whole transaction) again, up to `attempts` times, when the database aborted it for a deadlock or serialization failure. */
export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const code = sqlState(error);
      if (!code || attempt >= attempts) throw error;
      dbRetries.inc({ reason: RETRIABLE[code]! });
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}
