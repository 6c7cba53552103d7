"use client";

import { useActionState } from "react";
import { IDLE } from "@/lib/mutation";
import { FormMessage } from "@/components/form-message";
import { reviewTask } from "../tasks/actions";

/** Approve or reject one plan, with an optional comment kept on the task. */
export function ReviewForm({ id }: { id: string }) {
  const [state, review, pending] = useActionState(reviewTask, IDLE);
  return (
    <form action={review} className="review-form" data-testid="review-form">
      <input type="hidden" name="id" value={id} />
      <label className="field">
        <span>Comment (optional)</span>
        <textarea
          name="comment"
          rows={2}
          maxLength={2000}
          placeholder="Why, for the record"
          aria-invalid={state.field === "comment" ? true : undefined}
          data-testid="review-comment"
        />
      </label>
      <div className="form-actions">
        <FormMessage state={state} testId="review-message" />
        <button type="submit" name="verdict" value="reject" className="button button-danger" disabled={pending} data-testid="reject-plan">
          Reject
        </button>
        <button type="submit" name="verdict" value="approve" className="button button-primary" disabled={pending} data-testid="approve-plan">
          {pending ? "Sending…" : "Approve"}
        </button>
      </div>
    </form>
  );
}
