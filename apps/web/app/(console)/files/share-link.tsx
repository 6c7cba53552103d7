"use client";

import { useId, useRef, useState } from "react";
import { SHARE_EXPIRIES } from "@/lib/file-listing";
import { shareLink } from "./actions";

/**
 * Makes a share link with the chosen lifetime and shows it in a dialog: the table around the
 * button keeps its layout.
 */
export function ShareLinkButton({ objectKey }: { objectKey: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [expiresIn, setExpiresIn] = useState<number>(3600);
  const [link, setLink] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();

  async function share() {
    setBusy(true);
    setNote(null);
    setLink(null);
    try {
      const result = await shareLink(objectKey, expiresIn);
      if (!result.ok) {
        setNote(result.message);
      } else {
        setLink(result.url);
        const label = SHARE_EXPIRIES.find((c) => c.seconds === result.expiresIn)?.label ?? `${result.expiresIn} s`;
        try {
          await navigator.clipboard.writeText(result.url);
          setNote(`Link copied; valid for ${label}.`);
        } catch {
          setNote(`Valid for ${label}. Copy it below; the browser did not allow clipboard access.`);
        }
      }
      dialog.current?.showModal();
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="share">
      <select aria-label={`Link expiry for ${objectKey}`} className="share-expiry" value={expiresIn} onChange={(e) => setExpiresIn(Number(e.target.value))} data-testid="share-expiry">
        {SHARE_EXPIRIES.map((choice) => (
          <option key={choice.seconds} value={choice.seconds}>
            {choice.label}
          </option>
        ))}
      </select>
      <button type="button" className="button button-small" onClick={share} disabled={busy} data-testid="share-object">
        {busy ? "Signing…" : "Share"}
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby={titleId} data-testid="share-dialog">
        <h2 id={titleId} className="dialog-title">
          Share link
        </h2>
        {note && (
          <p role="status" className="small">
            {note}
          </p>
        )}
        {link && <input className="share-link mono" readOnly value={link} aria-label="Share link" onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />}
        <form method="dialog" className="dialog-actions">
          <button type="submit" className="button button-small">
            Close
          </button>
        </form>
      </dialog>
    </span>
  );
}
