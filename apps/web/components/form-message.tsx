import type { FormState } from "@/lib/mutation";

export function FormMessage({ state, testId, id }: { state: FormState; testId?: string; id?: string }) {
  if (state.status === "idle" || !state.message) return null;
  return (
    <p id={id} role={state.status === "error" ? "alert" : "status"} className={`alert ${state.status === "error" ? "alert-error" : "alert-ok"}`} data-testid={testId}>
      {state.field && <strong className="field-name">{state.field}: </strong>}
      {state.message}
    </p>
  );
}
