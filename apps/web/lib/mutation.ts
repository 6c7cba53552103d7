// Mutations answer with a union: `Mutation<Name>Success { data }` or an error type with a message.

export interface MutationPayload<T> {
  __typename: string;
  data?: T;
  message?: string;
  field?: string | null;
}

export type MutationOutcome<T> =
  | { ok: true; data: T }
  | { ok: false; kind: string; message: string; field?: string };

export function readOutcome<T>(payload: MutationPayload<T> | null | undefined): MutationOutcome<T> {
  if (!payload) return { ok: false, kind: "NoAnswer", message: "The API gave no answer for this change." };
  if (payload.__typename.endsWith("Success")) return { ok: true, data: payload.data as T };
  return {
    ok: false,
    kind: payload.__typename,
    message: payload.message ?? `The API refused the change (${payload.__typename}).`,
    field: payload.field ? inputName(payload.field) : undefined,
  };
}

/** "input.minPods" → "minPods": the form's input that a validation error names. */
function inputName(field: string): string {
  return field.split(".").pop() ?? field;
}

/** The state a form's server action hands back to `useActionState`. */
export interface FormState {
  status: "idle" | "ok" | "error";
  message?: string;
  /** The input a validation error points at, when the API named one. */
  field?: string;
  /** Bumped on each answer so a client can react to a repeat of the same message. */
  at?: number;
}

export const IDLE: FormState = { status: "idle" };
