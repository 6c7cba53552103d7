"use client";

import { useEffect, useState } from "react";
import { clientGraphQL } from "@/lib/client/graphql";
import { useNow } from "@/lib/client/use-now";
import { dateTime } from "@/lib/format";
import { LOCKS } from "@/lib/queries";
import type { Lock } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";

const POLL_MS = 3_000;

function timeLeft(expiresAt: string, now: number | null): string {
  if (now == null) return dateTime(expiresAt);
  const ms = new Date(expiresAt).getTime() - now;
  if (ms <= 0) return "expiring";
  return ms < 60_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.ceil((ms % 60_000) / 1000)} s`;
}

/** Held locks, polled every few seconds (locks change by expiry, which sends no event). */
export function LocksTable({ initial }: { initial: Lock[] }) {
  const [locks, setLocks] = useState(initial);
  const [stale, setStale] = useState(false);
  const now = useNow(1_000);

  useEffect(() => {
    let cancelled = false;
    const poll = async () => {
      if (document.visibilityState !== "visible") return;
      try {
        const { locks: fresh } = await clientGraphQL<{ locks: Lock[] }>(LOCKS);
        if (!cancelled) {
          setLocks(fresh);
          setStale(false);
        }
      } catch {
        if (!cancelled) setStale(true);
      }
    };
    const id = setInterval(poll, POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(id);
    };
  }, []);

  return (
    <>
      <p className="muted small" role="status" data-testid="locks-status">
        {stale ? "Could not refresh; showing the last known locks." : `Refreshes every ${POLL_MS / 1000} s.`}
      </p>
      {locks.length === 0 ? (
        <EmptyState title="No locks are held right now" testId="locks-empty">
          In cluster mode each cron run holds a lock while it works; it shows here with its holder and time left. In local mode
          jobs run without one.
        </EmptyState>
      ) : (
        <DataTable columns={["Key", "Holder", "Fencing token", "Acquired", "Time left"]} testId="locks-table">
          {locks.map((lock) => (
            <tr key={lock.key} data-testid="lock-row" data-key={lock.key}>
              <td className="mono">{lock.key}</td>
              <td className="mono">{lock.holder}</td>
              <td className="mono">{lock.fencingToken ?? "–"}</td>
              <td>{dateTime(lock.acquiredAt)}</td>
              <td data-testid="lock-time-left">{timeLeft(lock.expiresAt, now)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
