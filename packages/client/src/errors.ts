export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** The API refused a request or answered with GraphQL errors. */
export class BerthApiError extends Error {
  override readonly name = "BerthApiError";
  /** The errors' `extensions.code`s, e.g. UNAUTHENTICATED, RATE_LIMITED, TOKEN_REVOKED. */
  readonly codes: string[];

  constructor(
    /** HTTP status (200 for errors inside a GraphQL result). */
    readonly status: number,
    readonly errors: GraphQLErrorBody[],
    /** From Retry-After, on 429. */
    readonly retryAfterSeconds?: number,
  ) {
    super(errors.map((e) => e.message).join("; ") || `the API answered ${status}`);
    this.codes = errors.map((e) => e.extensions?.code ?? "").filter(Boolean);
  }
}

/** A mutation answered with one of its typed errors (ValidationError, NotFoundError, ConflictError, ...). */
export class BerthMutationError extends Error {
  override readonly name = "BerthMutationError";
  constructor(
    /** The GraphQL error type, e.g. "NotFoundError". */
    readonly type: string,
    message: string,
    /** The input field at fault (ValidationError), when known. */
    readonly field: string | null,
  ) {
    super(message);
  }
}

/** appendTaskLog refused a chunk past the end of the log: resend from `currentSize`. */
export class BerthLogGapError extends BerthMutationError {
  constructor(
    message: string,
    /** The log's size in bytes. */
    readonly currentSize: number,
  ) {
    super("TaskLogGapError", message, null);
  }
}
