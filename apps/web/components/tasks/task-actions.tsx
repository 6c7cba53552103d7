"use client";

import { useActionState } from "react";
import { IDLE } from "@/lib/mutation";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { cancelTask, reviewTask } from "@/app/(console)/tasks/actions";

const CANCELLABLE = new Set(["pending", "running", "apply_pending", "applying"]);

/** Approve (no comment; the inbox takes one) and cancel, for one row of a task list. */
export function TaskActions({ id, status }: { id: string; status: string }) {
  const [approved, approve, approving] = useActionState(reviewTask, IDLE);
  const [cancelled, cancel, cancelling] = useActionState(cancelTask, IDLE);
  const failure = [approved, cancelled].find((s) => s.status === "error");
  return (
    <div className="row-actions">
      {status === "apply_pending" && (
        <form action={approve}>
          <input type="hidden" name="id" value={id} />
          <input type="hidden" name="verdict" value="approve" />
          <button type="submit" className="button button-small button-primary" disabled={approving || cancelling} data-testid="approve-task">
            {approving ? "Approving…" : "Approve"}
          </button>
        </form>
      )}
      {CANCELLABLE.has(status) && (
        <form action={cancel}>
          <input type="hidden" name="id" value={id} />
          <ConfirmSubmit label="Cancel" question="Cancel this task?" confirmLabel={cancelling ? "Cancelling…" : "Cancel task"} testId="cancel-task" />
        </form>
      )}
      {failure?.message && (
        <span role="alert" className="error-text">
          {failure.message}
        </span>
      )}
    </div>
  );
}
