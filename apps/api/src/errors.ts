import { GraphQLError } from "graphql";
import { maskError } from "graphql-yoga";
/**
 * Which thrown errors a client may see, and as which GraphQL error type.
 *
 * Core's expected failures carry a `kind` (core's BerthError: validation, not_found, conflict,
 * forbidden) and are recognised without registration. A core error class without a kind is
 * registered here once: `errorTypes.register(UploadTooLargeError, "validation", { field: "file" })`.
 * Anything else stays unexpected, and yoga masks it.
 */
export type ErrorKind = "validation" | "not_found" | "conflict" | "forbidden" | "error";

type ErrorClass<E extends Error = Error> = abstract new (...args: never[]) => E;

interface Registration {
  kind: ErrorKind;
  field?: (error: Error) => string | null;
}

const CORE_KINDS: readonly string[] = ["validation", "not_found", "conflict", "forbidden"];
const registrations = new Map<unknown, Registration>();

function registrationOf(error: Error): Registration | undefined {
  for (let proto = Object.getPrototypeOf(error); proto && proto !== Error.prototype; proto = Object.getPrototypeOf(proto)) {
    const found = registrations.get(proto.constructor);
    if (found) return found;
  }
  return undefined;
}

export const errorTypes = {
  /** Exposes errors of `type` (and its subclasses) to clients as the GraphQL error type of `kind`. */
  register<E extends Error>(type: ErrorClass<E>, kind: ErrorKind, options: { field?: string | ((error: E) => string | null) } = {}): void {
    const { field } = options;
    registrations.set(type, {
      kind,
      field: field === undefined ? undefined : typeof field === "string" ? () => field : (field as (error: Error) => string | null),
    });
  },

  kindOf(error: unknown): ErrorKind | undefined {
    if (!(error instanceof Error)) return undefined;
    const registered = registrationOf(error);
    if (registered) return registered.kind;
    const kind = (error as { kind?: unknown }).kind;
    return typeof kind === "string" && CORE_KINDS.includes(kind) ? (kind as ErrorKind) : undefined;
  },

  /** The input field a validation error is about, when known. */
  fieldOf(error: Error): string | null {
    const registered = registrationOf(error);
    if (registered?.field) return registered.field(error);
    const field = (error as { field?: unknown }).field;
    return typeof field === "string" ? field : null;
  },
};

/**
 * The errors plugin picks a result type with `instanceof`. These classes answer `instanceof` by
 * kind, so every core error of a kind becomes that one GraphQL type without the plugin (or
 * core) knowing about each class.
 */
function errorKindClass(kind: ErrorKind) {
  return class extends Error {
    static override [Symbol.hasInstance](value: unknown): boolean {
      return errorTypes.kindOf(value) === kind;
    }
  };
}

export const ValidationErrorKind = errorKindClass("validation");
export const NotFoundErrorKind = errorKindClass("not_found");
export const ConflictErrorKind = errorKindClass("conflict");
export const ForbiddenErrorKind = errorKindClass("forbidden");
export const BaseErrorKind = errorKindClass("error");

/** Every mutation with `errors: {}` can return these. */
export const defaultErrorTypes = [ValidationErrorKind, NotFoundErrorKind, ConflictErrorKind, ForbiddenErrorKind, BaseErrorKind];

const CODES: Record<ErrorKind, string> = {
  validation: "BAD_USER_INPUT",
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
  forbidden: "FORBIDDEN",
  error: "BAD_REQUEST",
};

/** The code a client sees for an error (thrown or returned in a result union), for the audit log. */
export function errorCodeOf(error: unknown): string {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const code = error instanceof GraphQLError ? (error.extensions as Record<string, unknown>).code : undefined;
  if (typeof code === "string") return code;
  const kind = errorTypes.kindOf(original);
  return kind ? CODES[kind] : "INTERNAL_SERVER_ERROR";
}

/** The code of an expected error a result union returned (the errors plugin hands it back wrapped, so no `instanceof`). */
export function returnedErrorCode(error: object): string {
  const registered = registrationOf(error as Error);
  const kind = registered?.kind ?? (error as { kind?: unknown }).kind;
  return typeof kind === "string" && kind in CODES ? CODES[kind as ErrorKind] : "INTERNAL_SERVER_ERROR";
}

/**
 * yoga's mask: an expected error thrown where no result union catches it (a query field, a
 * subscription) reaches the client with its message and a code; anything else is masked.
 */
export function exposeExpectedErrors(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  const kind = errorTypes.kindOf(original);
  if (error instanceof GraphQLError && original instanceof Error && kind) {
    // The same error, given its code: yoga logs every error its mask replaces as an unexpected
    // one, with a stack, and an invalid key or an unknown pool is not that.
    if (error.message === original.message) {
      (error.extensions as Record<string, unknown>).code = CODES[kind];
      return error;
    }
    return new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: { code: CODES[kind] } });
  }
  // Thrown while a subscription streams (an agent's assignments of a pod it may not serve):
  // not wrapped by graphql-js, and as expected as the same error at subscribe.
  if (!(error instanceof GraphQLError) && error instanceof Error && kind) return new GraphQLError(error.message, { extensions: { code: CODES[kind] } });
  if (error instanceof GraphQLError && !original) return error;
  return maskError(error, message);
}
