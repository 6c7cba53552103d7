"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { CopyButton } from "@/components/copy-button";
import { IDLE } from "@/lib/mutation";
import { createToken, revokeToken, type TokenFormState } from "./actions";

const INITIAL: TokenFormState = { status: "idle" };

export function CreateTokenForm() {
  const [state, action, pending] = useActionState(createToken, INITIAL);
  return (
    <div className="stack">
      <form action={action} className="inline-form" noValidate>
        <label className="field">
          <span>Name</span>
          <input name="name" required placeholder="e.g. ci-pipeline" autoComplete="off" />
        </label>
        <label className="field">
          <span>Role</span>
          <select name="role" defaultValue="operator">
            <option value="viewer">viewer — read and watch</option>
            <option value="operator">operator — pools, tasks, cron, files</option>
            <option value="admin">admin — everything, tokens too</option>
            <option value="agent">agent — for pods</option>
          </select>
        </label>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
      <FormMessage state={state} />
      {state.secret && (
        <div className="secret-row">
          <input className="share-link mono" readOnly value={state.secret} aria-label="Secret of the new token" data-testid="new-token-secret" onFocus={(e) => e.currentTarget.select()} />
          <CopyButton value={state.secret} label="Copy token" testId="copy-token" />
        </div>
      )}
    </div>
  );
}

export function RevokeTokenButton({ id }: { id: string }) {
  const [state, action] = useActionState(revokeToken, IDLE);
  return (
    <form action={action} className="inline">
      <input type="hidden" name="id" value={id} />
      <ConfirmSubmit label="Revoke" question="Revoke this token?" />
      {state.status === "error" && (
        <span role="alert" className="error-text small">
          {state.message}
        </span>
      )}
    </form>
  );
}
