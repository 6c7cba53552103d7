import { startTransition, useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import { IDLE, type FormState } from "../mutation";

/** How long a success message stays: what it reported (a task's status, say) moves on. */
export const OK_SHOWN_MS = 10_000;

/**
 * For forms whose server action answers with a FormState. A form given to `action` is emptied by
 * React once the action ends, whatever the answer, which loses what was typed meanwhile or
 * must be fixed after a refusal: this submits by hand, so the inputs keep what they hold. And
 * the answer is hidden as soon as the form is edited again, so no message outlives its state; a
 * success also goes after OK_SHOWN_MS.
 */
export function useKeptForm<S extends FormState>(state: S, action: (data: FormData) => void) {
  const [dismissed, setDismissed] = useState<S | null>(null);
  const shown: S | FormState = state === dismissed ? IDLE : state;
  useEffect(() => {
    if (state.status !== "ok") return;
    const timer = setTimeout(() => setDismissed(state), OK_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [state]);
  return {
    shown,
    formProps: {
      onSubmit(event: FormEvent<HTMLFormElement>) {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        startTransition(() => action(data));
      },
      onChange(_event: ChangeEvent<HTMLFormElement>) {
        if (state.status !== "idle") setDismissed(state);
      },
    },
  };
}
