"use client";

import { useActionState } from "react";
import { IDLE } from "@/lib/mutation";
import { cronJobAction } from "./actions";

export function JobActions({ name, paused }: { name: string; paused: boolean }) {
  const [state, action, pending] = useActionState(cronJobAction, IDLE);
  return (
    <form action={action} className="row-actions">
      <input type="hidden" name="name" value={name} />
      <button type="submit" name="verb" value="trigger" className="button button-small button-primary" disabled={pending} data-testid="trigger-job">
        Run now
      </button>
      {paused ? (
        <button type="submit" name="verb" value="resume" className="button button-small" disabled={pending} data-testid="resume-job">
          Resume
        </button>
      ) : (
        <button type="submit" name="verb" value="pause" className="button button-small" disabled={pending} data-testid="pause-job">
          Pause
        </button>
      )}
      {state.message && (
        <span role={state.status === "error" ? "alert" : "status"} className={state.status === "error" ? "error-text small" : "ok-text small"}>
          {state.message}
        </span>
      )}
    </form>
  );
}
