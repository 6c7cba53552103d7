"use client";

import { useActionState, useEffect, useRef } from "react";
import { useKeptForm } from "@/lib/client/use-kept-form";
import { IDLE } from "@/lib/mutation";
import { FormMessage } from "@/components/form-message";
import { createFolder } from "./actions";

export function NewFolderForm({ prefix }: { prefix: string }) {
  const [answer, action, pending] = useActionState(createFolder, IDLE);
  const { shown: state, formProps } = useKeptForm(answer, action);
  const form = useRef<HTMLFormElement>(null);
  // Cleared only once the folder exists: a refused name stays, to be corrected.
  useEffect(() => {
    if (answer.status === "ok") form.current?.reset();
  }, [answer]);
  return (
    <form
      ref={form}
      {...formProps}
      className="inline-form"
      data-testid="new-folder-form"
    >
      <input type="hidden" name="prefix" value={prefix} />
      <label className="inline-label">
        <span>New folder</span>
        <input name="name" className="input input-small" placeholder="name" required maxLength={255} aria-invalid={state.field === "name" ? true : undefined} data-testid="new-folder-name" />
      </label>
      <button type="submit" className="button button-small" disabled={pending} data-testid="new-folder-create">
        {pending ? "Creating…" : "Create"}
      </button>
      <FormMessage state={state} testId="new-folder-message" />
    </form>
  );
}
