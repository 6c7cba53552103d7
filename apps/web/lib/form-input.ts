// Reading typed values out of FormData. Range rules stay with the API; this only rejects what is
// not a number at all, naming the field.

export class FormInputError extends Error {
  override readonly name = "FormInputError";
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

function raw(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value.trim() : "";
}

export function requiredText(form: FormData, name: string, label: string): string {
  const value = raw(form, name);
  if (!value) throw new FormInputError(name, `${label} is required.`);
  return value;
}

export function optionalText(form: FormData, name: string): string | undefined {
  return raw(form, name) || undefined;
}

export function optionalInt(form: FormData, name: string, label: string): number | undefined {
  const value = raw(form, name);
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new FormInputError(name, `${label} must be a whole number.`);
  return n;
}

export function optionalFloat(form: FormData, name: string, label: string): number | undefined {
  const value = raw(form, name);
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new FormInputError(name, `${label} must be a number.`);
  return n;
}
