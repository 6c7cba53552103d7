import { NotFoundError, ValidationError } from "../errors.js";

export class InvalidTokenRoleError extends ValidationError {
  constructor(
    readonly role: string,
    readonly allowed: readonly string[],
  ) {
    super("role", `role ${JSON.stringify(role)} is not one of ${allowed.join(", ")}`);
  }
}

export class InvalidTokenNameError extends ValidationError {
  constructor(
    readonly tokenName: string,
    readonly reason: string,
  ) {
    super("name", `token name ${JSON.stringify(tokenName.length > 40 ? `${tokenName.slice(0, 40)}…` : tokenName)} ${reason}`);
  }
}

/** Only agent tokens are limited to a pool; for other roles the limit would promise a restriction nothing enforces. */
export class TokenPoolNotAllowedError extends ValidationError {
  constructor(readonly role: string) {
    super("pool", `only agent tokens can be limited to a pool, not ${role} tokens`);
  }
}

export class TokenPoolNotFoundError extends NotFoundError {
  constructor(readonly pool: string) {
    super("pool", pool);
  }
}

export class ApiTokenNotFoundError extends NotFoundError {
  constructor(readonly tokenId: string) {
    super("API token", tokenId);
  }
}
