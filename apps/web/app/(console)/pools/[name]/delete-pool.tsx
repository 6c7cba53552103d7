"use client";

import { useActionState } from "react";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { IDLE } from "@/lib/mutation";
import { deletePool } from "../actions";

export function DeletePool({ pool }: { pool: string }) {
  const [state, action] = useActionState(deletePool, IDLE);
  return (
    <form action={action} className="inline-form">
      <input type="hidden" name="pool" value={pool} />
      <ConfirmSubmit label="Delete pool" question={`Delete ${pool} and stop its pods?`} confirmLabel="Delete for good" testId="delete-pool" />
      {state.status === "error" && (
        <span role="alert" className="error-text small">
          {state.message}
        </span>
      )}
    </form>
  );
}
