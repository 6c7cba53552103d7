"use client";

import type { ReactNode } from "react";
import { useFormStatus } from "react-dom";

interface Props {
  children: ReactNode;
  pendingText?: string;
  variant?: "primary" | "danger" | "plain";
  testId?: string;
  title?: string;
}

export function SubmitButton({ children, pendingText, variant = "plain", testId, title }: Props) {
  const { pending } = useFormStatus();
  return (
    <button
      type="submit"
      className={`button${variant === "plain" ? "" : ` button-${variant}`}`}
      disabled={pending}
      aria-busy={pending}
      data-testid={testId}
      title={title}
    >
      {pending ? (pendingText ?? "Working…") : children}
    </button>
  );
}
