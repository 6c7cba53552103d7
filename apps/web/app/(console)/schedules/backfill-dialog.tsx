"use client";

import { useActionState, useRef } from "react";
import { FormMessage } from "@/components/form-message";
import { IDLE } from "@/lib/mutation";
import { backfillSchedule } from "./actions";
import { OverlapOptions } from "./overlap-options";

/** Runs the fire times of a past range now, each at most once ever. */
export function BackfillDialog({ name }: { name: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [state, action, pending] = useActionState(backfillSchedule, IDLE);
  return (
    <>
      <button type="button" className="button button-small" onClick={() => dialog.current?.showModal()} data-testid="open-backfill">
        Backfill…
      </button>
      <dialog ref={dialog} className="card" aria-labelledby="backfill-title" data-testid="backfill-dialog">
        <h2 id="backfill-title" className="card-title">
          Backfill {name}
        </h2>
        <p className="small muted">
          Runs every fire time between the two moments (both included, at most 1000, none in the future) now, oldest first. A fire time that already
          has a run is left as it is.
        </p>
        <form action={action} className="form-grid">
          <input type="hidden" name="name" value={name} />
          <label className="field">
            <span>From (UTC)</span>
            <input name="from" type="datetime-local" step={1} required data-testid="backfill-from" />
          </label>
          <label className="field">
            <span>To (UTC)</span>
            <input name="to" type="datetime-local" step={1} required data-testid="backfill-to" />
          </label>
          <label className="field field-wide">
            <span>While a task of it still runs</span>
            <select name="overlap" defaultValue="">
              <option value="">As the schedule says</option>
              <OverlapOptions />
            </select>
          </label>
          <div className="field-wide form-actions">
            <FormMessage state={state} testId="backfill-message" />
            <button type="button" className="button" onClick={() => dialog.current?.close()}>
              Close
            </button>
            <button type="submit" className="button button-primary" disabled={pending} data-testid="backfill-submit">
              {pending ? "Backfilling…" : "Backfill"}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
