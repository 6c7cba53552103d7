import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../errors.js";

export class TaskNotFoundError extends NotFoundError {
  constructor(readonly taskId: string) {
    super("task", taskId);
  }
}

export { PoolNotFoundError } from "../pools/errors.js";
/** A move the task lifecycle does not allow, e.g. approving a running task. */
export class IllegalTransitionError extends ConflictError {
  constructor(
    readonly taskId: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`task ${taskId} cannot go from ${from} to ${to}`);
  }
}

/** An agent reported on a task that is not placed on its pod. */
export class TaskNotOnPodError extends ForbiddenError {
  constructor(
    readonly taskId: string,
    readonly pod: string,
  ) {
    super(`task ${taskId} is not placed on pod ${pod}`);
  }
}

export class PayloadTooLargeError extends ValidationError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super("payload", `payload is ${size} bytes; the limit is ${limit}`);
  }
}

/** An agent token limited to one pool acted on a task of another pool. */
export class TaskNotInScopeError extends ForbiddenError {
  constructor(readonly taskId: string) {
    super(`task ${taskId} belongs to a pool this token may not act for`);
  }
}

/** A retried submission (same idempotency key, same pool) that asks for a different task. */
export class IdempotencyKeyReusedError extends ConflictError {
  constructor(
    readonly key: string,
    readonly taskId: string,
  ) {
    super(`idempotency key ${JSON.stringify(key)} was used for task ${taskId}, which has another type or payload`);
  }
}
