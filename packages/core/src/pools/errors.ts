import { ConflictError, NotFoundError } from "../errors.js";

export class PoolNotFoundError extends NotFoundError {
  constructor(readonly pool: string) {
    super("pool", pool);
  }
}

export class PoolExistsError extends ConflictError {
  constructor(readonly pool: string) {
    super(`a pool named ${JSON.stringify(pool)} already exists`);
  }
}

/** The pool still has running or reserved slots and cannot be deleted. */
export class PoolBusyError extends ConflictError {
  constructor(
    readonly pool: string,
    readonly busySlots: number,
  ) {
    super(`pool ${pool} has ${busySlots} running or reserved slot(s); cancel or finish its tasks first`);
  }
}

/** The pod still has running or reserved slots: it can be drained, not deleted now. */
export class PodBusyError extends ConflictError {
  constructor(
    readonly pod: string,
    readonly busySlots: number,
  ) {
    super(`pod ${pod} has ${busySlots} running or reserved slot(s); drain it instead, and it goes once idle`);
  }
}

/** The pod is not in a phase the action applies to (e.g. clearing a pod that is not Lost). */
export class PodPhaseError extends ConflictError {
  constructor(
    readonly pod: string,
    readonly phase: string,
    action: string,
  ) {
    super(`pod ${pod} is ${phase}: cannot ${action}`);
  }
}
