import type { FormState } from "./mutation";

/** Marks the input a validation error names, and ties it to the message that explains it. */
export function fieldProps(state: FormState, name: string, messageId: string): { "aria-invalid"?: true; "aria-describedby"?: string } {
  return state.status === "error" && state.field === name ? { "aria-invalid": true, "aria-describedby": messageId } : {};
}
