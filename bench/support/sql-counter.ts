// Counts the SQL statements this process sends to PostgreSQL, whoever sends them (Prisma through
// its pg adapter, or pg directly): every statement goes through pg.Client#query.
import { performance } from "node:perf_hooks";
import pg from "pg";

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

export interface SqlCounter {
  readonly count: number;
  /** Milliseconds statements were in flight, summed (meaningful for work that sends one at a time). */
  readonly inFlightMs: number;
  /** Statements by their text (whitespace folded, cut at 120 characters), most frequent first. */
  top(limit?: number): { sql: string; count: number }[];
  reset(): void;
  restore(): void;
}

export function countSqlStatements(): SqlCounter {
  const proto = pg.Client.prototype as unknown as { query: Query };
  const original = proto.query;
  let count = 0;
  let inFlightMs = 0;
  const byText = new Map<string, number>();
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    count++;
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "?");
    const key = text.replace(/\s+/g, " ").trim().slice(0, 120);
    byText.set(key, (byText.get(key) ?? 0) + 1);
    const started = performance.now();
    const done = () => {
      inFlightMs += performance.now() - started;
    };
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args[args.length - 1] = (...results: unknown[]) => {
        done();
        return (last as (...r: unknown[]) => unknown)(...results);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === "function") (result as Promise<unknown>).then(done, done);
    return result;
  };
  return {
    get count() {
      return count;
    },
    get inFlightMs() {
      return inFlightMs;
    },
    top: (limit = 10) =>
      [...byText]
        .map(([sql, n]) => ({ sql, count: n }))
        .sort((a, b) => b.count - a.count)
        .slice(0, limit),
    reset() {
      count = 0;
      inFlightMs = 0;
      byText.clear();
    },
    restore() {
      proto.query = original;
    },
  };
}
