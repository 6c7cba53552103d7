"use client";

import { useEffect } from "react";

/** The body of every segment's error.tsx: says what failed and offers a retry. */
export function SegmentError({ what, error, retry }: { what: string; error: unknown; retry: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  const digest = error instanceof Error && "digest" in error ? String((error as { digest?: string }).digest ?? "") : "";
  return (
    <div className="page">
      <div className="card alert-error-card" role="alert" data-testid="segment-error">
        <h2>Could not load {what}</h2>
        <p>
          The console asked the Berth API and got an error back. The API may be restarting or unreachable; the details are in
          the console server&apos;s log{digest ? ` (reference ${digest})` : ""}.
        </p>
        <button type="button" className="button" onClick={() => retry()}>
          Try again
        </button>
      </div>
    </div>
  );
}
