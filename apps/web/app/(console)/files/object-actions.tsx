"use client";

import { useActionState, useState, useTransition } from "react";
import { IDLE } from "@/lib/mutation";
import { basename } from "@/lib/object-keys";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { countFolder, deleteFolder, deleteObject, moveObject, type Outcome } from "./actions";

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

/** Rename or move: the new key in full, so a path moves the object to another folder. */
export function RenameButton({ objectKey, onDone }: { objectKey: string; onDone: (outcome: Outcome) => void }) {
  const [editing, setEditing] = useState(false);
  const [target, setTarget] = useState(objectKey);
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  if (!editing) {
    return (
      <button type="button" className="button button-small" onClick={() => setEditing(true)} data-testid="rename-object">
        Rename
      </button>
    );
  }
  return (
    <form
      className="rename-form"
      onSubmit={(event) => {
        event.preventDefault();
        start(async () => {
          const outcome = await moveObject(objectKey, target.trim());
          // What was typed stays on a refusal, so it can be corrected rather than typed again.
          if (!outcome.ok) return setError(outcome.message);
          setEditing(false);
          onDone(outcome);
        });
      }}
    >
      <input
        className="input input-small mono"
        value={target}
        onChange={(e) => {
          setTarget(e.target.value);
          setError(null);
        }}
        aria-label={`New key for ${basename(objectKey)}`}
        aria-invalid={error ? true : undefined}
        autoFocus
        data-testid="rename-input"
      />
      <button type="submit" className="button button-small button-primary" disabled={pending || target.trim() === objectKey} data-testid="rename-confirm">
        {pending ? "Moving…" : "Move"}
      </button>
      <button type="button" className="button button-small" onClick={() => setEditing(false)} disabled={pending}>
        Cancel
      </button>
      {error && (
        <span role="alert" className="error-text small" data-testid="rename-error">
          {error}
        </span>
      )}
    </form>
  );
}

type FolderStep = { step: "idle" } | { step: "counting" } | { step: "asking"; count: number } | { step: "refused"; message: string };

/** Deleting a folder says how many objects go with it first, and refuses past the bound. */
export function DeleteFolderButton({ folder, onDone }: { folder: string; onDone: (outcome: Outcome) => void }) {
  const [state, setState] = useState<FolderStep>({ step: "idle" });
  const [pending, start] = useTransition();
  const ask = () =>
    start(async () => {
      setState({ step: "counting" });
      const counted = await countFolder(folder);
      if (!counted.ok) return setState({ step: "refused", message: counted.message });
      if (counted.more) return setState({ step: "refused", message: `More than ${counted.count.toLocaleString("en")} objects: delete from inside the folder.` });
      setState({ step: "asking", count: counted.count });
    });
  if (state.step === "asking") {
    return (
      <span className="confirm" role="group" aria-label={`Delete ${folder}`}>
        <span className="small" data-testid="folder-delete-count">
          Delete {state.count} object{state.count === 1 ? "" : "s"} for good?
        </span>
        <button
          type="button"
          className="button button-small button-danger"
          disabled={pending}
          autoFocus
          data-testid="delete-folder-confirm"
          onClick={() =>
            start(async () => {
              const outcome = await deleteFolder(folder);
              setState({ step: "idle" });
              onDone(outcome);
            })
          }
        >
          {pending ? "Deleting…" : "Delete"}
        </button>
        <button type="button" className="button button-small" onClick={() => setState({ step: "idle" })} disabled={pending}>
          Keep
        </button>
      </span>
    );
  }
  return (
    <span className="row-actions">
      <button type="button" className="button button-small button-danger" onClick={ask} disabled={pending} data-testid="delete-folder">
        {state.step === "counting" ? "Counting…" : "Delete…"}
      </button>
      {state.step === "refused" && (
        <span role="alert" className="error-text small">
          {state.message}
        </span>
      )}
    </span>
  );
}
