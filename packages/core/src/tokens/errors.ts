import { ForbiddenError, NotFoundError, ValidationError } from "../errors.js";

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

/** An agent acts for the pods of one pool: a token that could act for every pool is not made. */
export class AgentTokenPoolRequiredError extends ValidationError {
  constructor() {
    super("pool", "an agent token must be limited to a pool: give pool");
  }
}

/** An agent token stored before agent tokens needed a pool: it may act for no pod at all. */
export class AgentTokenWithoutPoolError extends ForbiddenError {
  constructor(readonly tokenId: string) {
    super("this agent token is not limited to a pool, so it may act for no pod: create an agent token for the pool and use that");
  }
}
