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
