"use client";

import { useState } from "react";

/** Copies `value` to the clipboard and says whether that worked. */
export function CopyButton({ value, label = "Copy", testId }: { value: string; label?: string; testId?: string }) {
  const [note, setNote] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setNote("Copied.");
    } catch {
      setNote("The browser did not allow copying: select the text and copy it by hand.");
    }
  }
  return (
    <span className="copy">
      <button type="button" className="button button-small" onClick={copy} data-testid={testId}>
        {label}
      </button>
      {note && (
        <span role="status" className="small">
          {note}
        </span>
      )}
    </span>
  );
}
