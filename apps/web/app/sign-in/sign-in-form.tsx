"use client";

import { useActionState } from "react";
import { IDLE } from "@/lib/mutation";
import { useKeptForm } from "@/lib/client/use-kept-form";
import { signIn } from "./actions";

export function SignInForm({ next }: { next: string }) {
  const [answer, action, pending] = useActionState(signIn, IDLE);
  // A refused token stays in the box, to be corrected rather than pasted again.
  const { shown: state, formProps } = useKeptForm(answer, action);
  return (
    <form {...formProps} className="stack" aria-describedby={state.status === "error" ? "sign-in-error" : undefined}>
      <input type="hidden" name="next" value={next} />
      <label className="field">
        <span>API token</span>
        <input
          name="token"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          placeholder="Paste a token created by an admin"
          data-testid="token-input"
        />
      </label>
      {state.status === "error" && (
        <p id="sign-in-error" role="alert" className="alert alert-error" data-testid="sign-in-error">
          {state.message}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? "Checking token…" : "Sign in"}
      </button>
    </form>
  );
}
