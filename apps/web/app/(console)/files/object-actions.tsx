"use client";

import { useActionState, useState } from "react";
import { IDLE } from "@/lib/mutation";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { deleteObject, shareLink } from "./actions";

export function DeleteObjectButton({ objectKey }: { objectKey: string }) {
  const [state, action] = useActionState(deleteObject, IDLE);
  return (
    <form action={action} className="inline">
      <input type="hidden" name="key" value={objectKey} />
      <ConfirmSubmit label="Delete" question="Delete for good?" testId="delete-object" />
      {state.status === "error" && (
        <span role="alert" className="error-text small">
          {state.message}
        </span>
      )}
    </form>
  );
}

export function ShareLinkButton({ objectKey }: { objectKey: string }) {
  const [link, setLink] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function share() {
    setBusy(true);
    setNote(null);
    try {
      const result = await shareLink(objectKey);
      if (!result.ok) {
        setNote(result.message);
        return;
      }
      setLink(result.url);
      try {
        await navigator.clipboard.writeText(result.url);
        setNote(`Link copied; valid ${Math.round(result.expiresIn / 60)} min.`);
      } catch {
        setNote("Copy the link below; the browser did not allow clipboard access.");
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="share">
      <button type="button" className="button button-small" onClick={share} disabled={busy} data-testid="share-object">
        {busy ? "Signing…" : "Copy link"}
      </button>
      {note && (
        <span role="status" className="small">
          {note}
        </span>
      )}
      {link && <input className="share-link mono" readOnly value={link} aria-label="Share link" onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />}
    </span>
  );
}
