import { ConflictError, ValidationError } from "../errors.js";

/** A lock request that can never succeed: empty key, or a ttl / wait that is not a positive whole number of milliseconds. */
export class InvalidLockRequestError extends ValidationError {
  constructor(
    field: "key" | "ttlMs" | "waitMs" | "retryMs",
    readonly value: unknown,
    reason: string,
  ) {
    super(field, `invalid lock ${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

export type LockLossReason = "taken" | "gone" | "expired";

/** The lock is no longer ours: another holder took it (`taken`), it vanished (`gone`), or its ttl ran out unextended (`expired`). */
export class LockLostError extends ConflictError {
  constructor(
    readonly key: string,
    readonly fencingToken: number,
    readonly reason: LockLossReason,
  ) {
    super(`lock ${JSON.stringify(key)} (fencing token ${fencingToken}) lost: ${reason}`);
  }
}
