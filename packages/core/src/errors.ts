/**
 * Expected failures of the domain. Each carries a `kind` the API maps to a typed GraphQL
 * error (validation, not found, conflict, forbidden) and typed fields of its own.
 */
export type ErrorKind = "validation" | "not_found" | "conflict" | "forbidden";

export abstract class BerthError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends BerthError {
  readonly kind = "validation";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends BerthError {
  readonly kind = "not_found";
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${JSON.stringify(id)} not found`);
  }
}

export class ConflictError extends BerthError {
  readonly kind = "conflict";
}

export class ForbiddenError extends BerthError {
  readonly kind = "forbidden";
}
