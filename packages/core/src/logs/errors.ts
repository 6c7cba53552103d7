import { ConflictError, ValidationError } from "../errors.js";

/**
 * A chunk that starts past the end of the log: bytes before it are missing. Nothing was stored;
 * the agent resends from `currentSize`.
 */
export class TaskLogGapError extends ConflictError {
  readonly code = "LOG_GAP";
  constructor(
    readonly taskId: string,
    readonly offset: number,
    readonly currentSize: number,
  ) {
    super(`the log of task ${taskId} has ${currentSize} bytes: a chunk at offset ${offset} leaves a gap; resend from ${currentSize}`);
  }
}

export class TaskLogChunkTooLargeError extends ValidationError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super("data", `data is ${size} bytes; a chunk holds at most ${limit}`);
  }
}

/** The task has ended and its agent is not stopping it: its log takes no more bytes. */
export class TaskLogClosedError extends ConflictError {
  readonly code = "LOG_CLOSED";
  constructor(
    readonly taskId: string,
    readonly status: string,
  ) {
    super(`task ${taskId} is ${status}: its log is closed`);
  }
}
