"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { useKeptForm } from "@/lib/client/use-kept-form";
import { submitTask, type PoolFormState } from "../actions";

const INITIAL: PoolFormState = { status: "idle" };

export function SubmitTaskForm({ pool }: { pool: string }) {
  const [answer, action, pending] = useActionState(submitTask, INITIAL);
  // What is typed while a task is being submitted stays, ready for the next one.
  const { shown: state, formProps } = useKeptForm(answer, action);
  return (
    <form {...formProps} className="form-grid" data-testid="submit-task-form" noValidate>
      <input type="hidden" name="pool" value={pool} />
      <label className="field">
        <span>Type</span>
        <select name="type" defaultValue="plan_and_apply" data-testid="task-type">
          <option value="plan">plan</option>
          <option value="apply">apply</option>
          <option value="plan_and_apply">plan_and_apply</option>
        </select>
      </label>
      <label className="field">
        <span>Duration (ms)</span>
        <input name="durationMs" type="number" min={0} step={100} defaultValue={3000} data-testid="task-duration" />
      </label>
      <label className="field field-check">
        <input name="fail" type="checkbox" data-testid="task-fail" />
        <span>Make it fail</span>
      </label>
      <div className="field-wide form-actions">
        <FormMessage state={state} testId="submit-task-message" />
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Submitting…" : "Submit task"}
        </button>
      </div>
    </form>
  );
}
