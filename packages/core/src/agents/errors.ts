import { ConflictError, NotFoundError } from "../errors.js";

export class PodNotFoundError extends NotFoundError {
  constructor(readonly pod: string) {
    super("pod", pod);
  }
}

/** The pod was declared Lost (missed heartbeats); its agent must stop. */
export class PodLostError extends ConflictError {
  readonly code = "POD_LOST";
  constructor(readonly pod: string) {
    super(`pod ${pod} was declared Lost after missing heartbeats; its agent must exit`);
  }
}

/** The pod is being deleted (Terminating); its agent must stop and exit. */
export class PodTerminatingError extends ConflictError {
  readonly code = "POD_TERMINATING";
  constructor(readonly pod: string) {
    super(`pod ${pod} is being deleted; its agent must exit`);
  }
}
