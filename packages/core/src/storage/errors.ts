/** Why a key or prefix was refused; one value per rule in `keys.ts`. */
export type InvalidKeyReason =
  | "not-a-string"
  | "empty"
  | "too-long"
  | "segment-too-long"
  | "absolute"
  | "traversal"
  | "encoded-traversal"
  | "dot-segment"
  | "empty-segment"
  | "backslash"
  | "control-character"
  | "malformed-unicode"
  | "reserved";

/** A key (or list prefix) that no backend will accept. Nothing was read or written. */
export class InvalidKeyError extends Error {
  constructor(
    readonly key: string,
    readonly reason: InvalidKeyReason,
    detail: string,
  ) {
    super(`invalid storage key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}: ${detail}`);
    this.name = "InvalidKeyError";
  }
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no stored object under ${JSON.stringify(key)}`);
    this.name = "ObjectNotFoundError";
  }
}

/** The upload went past the byte limit; whatever had been received was discarded. */
export class UploadTooLargeError extends Error {
  constructor(
    readonly key: string,
    readonly limit: number,
  ) {
    super(`upload to ${JSON.stringify(key)} exceeds the limit of ${limit} bytes`);
    this.name = "UploadTooLargeError";
  }
}

/** The stream delivered a different number of bytes than the size announced with it. */
export class UploadSizeMismatchError extends Error {
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly received: number,
  ) {
    super(`upload to ${JSON.stringify(key)} announced ${expected} bytes but ${received > expected ? "sent more" : `sent ${received}`}`);
    this.name = "UploadSizeMismatchError";
  }
}

/** A byte range that is malformed or starts at or past the end of the object. */
export class InvalidRangeError extends Error {
  constructor(
    readonly key: string,
    readonly start: number,
    readonly end: number,
    readonly size?: number,
  ) {
    super(`range ${start}-${end} is not satisfiable for ${JSON.stringify(key)}${size === undefined ? "" : ` (${size} bytes)`}`);
    this.name = "InvalidRangeError";
  }
}

/**
 * On local disk a key cannot be both an object and a folder ("a" and "a/b"), because a path
 * cannot be both a file and a directory. Object stores allow it; the local backend refuses.
 */
export class KeyConflictError extends Error {
  constructor(
    readonly key: string,
    readonly conflictsWith: string,
  ) {
    super(`cannot store ${JSON.stringify(key)}: ${JSON.stringify(conflictsWith)} is ${key.startsWith(`${conflictsWith}/`) ? "an object" : "a folder"} on local storage`);
    this.name = "KeyConflictError";
  }
}

/** A size limit, expiry or similar number outside what the storage layer accepts. */
export class InvalidStorageArgumentError extends Error {
  constructor(
    readonly argument: string,
    readonly accepts: string,
    readonly got: unknown,
  ) {
    super(`${argument}=${String(got)} is invalid: expected ${accepts}`);
    this.name = "InvalidStorageArgumentError";
  }
}

/** A copy or move onto a key that already holds an object: nothing was written. */
export class ObjectExistsError extends Error {
  constructor(readonly key: string) {
    super(`an object is already stored under ${JSON.stringify(key)}`);
    this.name = "ObjectExistsError";
  }
}

/** A prefix operation that would touch more objects than it may at once: nothing was changed. */
export class TooManyObjectsError extends Error {
  constructor(
    readonly prefix: string,
    readonly limit: number,
  ) {
    super(`more than ${limit} objects are stored under ${JSON.stringify(prefix)}; delete fewer at a time`);
    this.name = "TooManyObjectsError";
  }
}
