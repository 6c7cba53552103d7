"use client";

import { useState } from "react";
import { useFormStatus } from "react-dom";

interface Props {
  label: string;
  question: string;
  confirmLabel?: string;
  testId?: string;
}

/**
 * A destructive submit button that asks first, inline, so the question is part of the page
 * (readable, keyboard-reachable, testable) rather than a blocking browser dialog.
 */
export function ConfirmSubmit({ label, question, confirmLabel = label, testId }: Props) {
  const [asking, setAsking] = useState(false);
  const { pending } = useFormStatus();
  if (!asking) {
    return (
      <button type="button" className="button button-small button-danger" onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="small">{question}</span>
      <button type="submit" className="button button-small button-danger" disabled={pending} data-testid={testId ? `${testId}-confirm` : undefined} autoFocus>
        {pending ? "Working…" : confirmLabel}
      </button>
      <button type="button" className="button button-small" onClick={() => setAsking(false)} disabled={pending}>
        Keep
      </button>
    </span>
  );
}
