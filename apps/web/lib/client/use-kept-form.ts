import { startTransition, useState, type ChangeEvent, type FormEvent } from "react";
import { IDLE, type FormState } from "../mutation";

/**
 * For forms whose server action answers with a FormState. A form given to `action` is emptied by
 * React once the action ends, whatever the answer, which loses what was typed meanwhile or
 * must be fixed after a refusal: this submits by hand, so the inputs keep what they hold. And
 * the answer is hidden as soon as the form is edited again, so no message outlives its state.
 */
export function useKeptForm<S extends FormState>(state: S, action: (data: FormData) => void) {
  const [dismissed, setDismissed] = useState<S | null>(null);
  const shown: S | FormState = state === dismissed ? IDLE : state;
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
