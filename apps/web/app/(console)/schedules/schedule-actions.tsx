"use client";

import { useActionState } from "react";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { IDLE } from "@/lib/mutation";
import { scheduleAction } from "./actions";

/** Run now, pause with a note, resume, and (on the schedule's page) delete. */
export function ScheduleActions({ name, paused, canDelete = false }: { name: string; paused: boolean; canDelete?: boolean }) {
  const [state, action, pending] = useActionState(scheduleAction, IDLE);
  return (
    <div className="stack">
      <form action={action} className="row-actions">
        <input type="hidden" name="name" value={name} />
        <button type="submit" name="verb" value="trigger" className="button button-small button-primary" disabled={pending} data-testid="trigger-schedule">
          Run now
        </button>
        {paused ? (
          <button type="submit" name="verb" value="resume" className="button button-small" disabled={pending} data-testid="resume-schedule">
            Resume
          </button>
        ) : (
          <>
            <input name="note" placeholder="Why pause? (optional)" aria-label={`Pause note for ${name}`} className="small" maxLength={500} data-testid="pause-note" />
            <button type="submit" name="verb" value="pause" className="button button-small" disabled={pending} data-testid="pause-schedule">
              Pause
            </button>
          </>
        )}
      </form>
      {canDelete && (
        <form action={action} className="row-actions">
          <input type="hidden" name="name" value={name} />
          <input type="hidden" name="verb" value="delete" />
          <ConfirmSubmit label="Delete" question={`Delete ${name} and its run history? Its tasks stay.`} testId="delete-schedule" />
        </form>
      )}
      {state.message && (
        <span role={state.status === "error" ? "alert" : "status"} className={state.status === "error" ? "error-text small" : "ok-text small"} data-testid="schedule-action-message">
          {state.message}
        </span>
      )}
    </div>
  );
}
