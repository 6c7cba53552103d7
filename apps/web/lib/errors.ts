/** The API could not be reached at all (not started, wrong API_URL, network down). */
export class ApiUnreachableError extends Error {
  override readonly name = "ApiUnreachableError";
  constructor(readonly url: string, options?: { cause?: unknown }) {
    super(`The Berth API did not answer at ${url}.`, options);
  }
}

/** The API refused the token: missing, unknown or revoked (`unauthenticated`), or too weak a role (`forbidden`). */
export class ApiAuthError extends Error {
  override readonly name = "ApiAuthError";
  constructor(readonly reason: "unauthenticated" | "forbidden", message: string) {
    super(message);
  }
}

/** The API answered, but with GraphQL errors instead of data. */
export class ApiResponseError extends Error {
  override readonly name = "ApiResponseError";
  constructor(message: string, readonly status: number, readonly codes: string[]) {
    super(message);
  }
}
