import { ConflictError, NotFoundError } from "../errors.js";

export class PodNotFoundError extends NotFoundError {
  constructor(readonly pod: string) {
    super("pod", pod);
  }
}

/** The pod was declared Lost (missed heartbeats); its agent must stop. */
export class PodLostError extends ConflictError {
  constructor(readonly pod: string) {
    super(`pod ${pod} was declared Lost after missing heartbeats; its agent must exit`);
  }
}
