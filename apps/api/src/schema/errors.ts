import { builder } from "../builder.js";
import { BaseErrorKind, ConflictErrorKind, errorTypes, ForbiddenErrorKind, NotFoundErrorKind, ValidationErrorKind } from "../errors.js";

/** Every expected failure a mutation can return implements this. */
export const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  fields: (t) => ({ message: t.exposeString("message") }),
});

builder.objectType(BaseErrorKind, {
  name: "BaseError",
  description: "An expected failure that fits no more specific type.",
  interfaces: [ErrorInterface],
});

builder.objectType(ValidationErrorKind, {
  name: "ValidationError",
  description: "The input was refused; nothing was changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.string({ nullable: true, description: "The input field at fault, when known.", resolve: (error) => errorTypes.fieldOf(error) }),
  }),
});

builder.objectType(NotFoundErrorKind, {
  name: "NotFoundError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resource: t.string({ nullable: true, resolve: (error) => stringField(error, "resource") }),
  }),
});

builder.objectType(ConflictErrorKind, {
  name: "ConflictError",
  description: "The request contradicts the current state (a name taken, a transition not allowed).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({
      nullable: true,
      description: "A stable code for conflicts a program acts on: POD_LOST and POD_TERMINATING tell an agent to exit.",
      resolve: (error) => stringField(error, "code"),
    }),
  }),
});

builder.objectType(ForbiddenErrorKind, {
  name: "ForbiddenError",
  description: "The token may call this, but not on this object (for example an agent acting on another pod).",
  interfaces: [ErrorInterface],
});

function stringField(error: Error, name: string): string | null {
  const value = (error as unknown as Record<string, unknown>)[name];
  return typeof value === "string" ? value : null;
}
