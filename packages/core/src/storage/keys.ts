import { InvalidKeyError, type InvalidKeyReason } from "./errors.js";

export const MAX_KEY_BYTES = 1024;
/** A path segment becomes a file or directory name on local disk, where names stop at 255 bytes. */
export const MAX_SEGMENT_BYTES = 255;
/**
 * The local backend keeps temp files, metadata and its signing secret in this folder of its
 * root. Keys may not start with it on any backend, so that a key valid on one is valid on both.
 */
export const RESERVED_FOLDER = ".berth-storage";

// C0 controls, DEL and C1 controls: never part of a file name a person meant to type.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[A-Za-z]:/;
/** Enough rounds to unwrap triple encoding (%25252e); nothing decodes a key more often than that. */
const DECODE_ROUNDS = 4;

function refuse(key: string, reason: InvalidKeyReason, detail: string): never {
  throw new InvalidKeyError(key, reason, detail);
}

/**
 * The forms a key may take once something downstream decodes it (a proxy, a URL router, a
 * file system that folds compatibility characters): each is checked for traversal too.
 */
function decodedForms(key: string): string[] {
  const forms = new Set([key, key.normalize("NFKC")]);
  let current = key;
  for (let i = 0; i < DECODE_ROUNDS; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break; // a literal "%" that is not an escape: nothing further to decode
    }
    if (next === current) break;
    forms.add(next).add(next.normalize("NFKC"));
    current = next;
  }
  return [...forms];
}

function checkTraversal(key: string, form: string): void {
  const encoded = form !== key;
  const reason = encoded ? "encoded-traversal" : "traversal";
  if (form.startsWith("/")) refuse(key, encoded ? "encoded-traversal" : "absolute", "it is an absolute path");
  if (DRIVE_LETTER.test(form)) refuse(key, encoded ? "encoded-traversal" : "absolute", "it starts with a drive letter");
  if (form.includes("\\")) refuse(key, encoded ? "encoded-traversal" : "backslash", "it contains a backslash");
  if (CONTROL.test(form)) refuse(key, encoded ? "encoded-traversal" : "control-character", "it contains a NUL or control character");
  if (form.split("/").includes("..")) refuse(key, reason, `it contains a ".." segment${encoded ? " once decoded" : ""}`);
}

/** Checks the rules shared by keys and prefixes; `allowTrailingSlash` is for prefixes. */
function check(key: unknown, allowTrailingSlash: boolean): string {
  if (typeof key !== "string") refuse(String(key), "not-a-string", "it is not a string");
  if (key.length === 0) refuse(key, "empty", "it is empty");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) refuse(key, "too-long", `it is longer than ${MAX_KEY_BYTES} bytes`);
  // A lone surrogate would be written as U+FFFD, so two different keys would name one object.
  if (Buffer.from(key, "utf8").toString("utf8") !== key) refuse(key, "malformed-unicode", "it is not well-formed Unicode");
  for (const form of decodedForms(key)) checkTraversal(key, form);

  const segments = (allowTrailingSlash && key.endsWith("/") ? key.slice(0, -1) : key).split("/");
  for (const segment of segments) {
    // "a//b", "a/./b" and "a/" would alias other keys on local disk (the path normalises),
    // and an empty segment shows up as a nameless folder in listings.
    if (segment === "") refuse(key, "empty-segment", "it contains an empty segment (// or a trailing /)");
    if (segment === ".") refuse(key, "dot-segment", 'it contains a "." segment');
    if (Buffer.byteLength(segment, "utf8") > MAX_SEGMENT_BYTES) {
      refuse(key, "segment-too-long", `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
  if (segments[0] === RESERVED_FOLDER && (segments.length > 1 || !allowTrailingSlash || key.endsWith("/"))) {
    refuse(key, "reserved", `${RESERVED_FOLDER} is reserved for the storage layer`);
  }
  return key;
}

/** S3 lists keys in UTF-8 byte order; local listings sort the same way. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Returns the key unchanged if every backend can store it safely, else throws InvalidKeyError. */
export function validateKey(key: unknown): string {
  return check(key, false);
}

/**
 * Validates a `list` prefix: "" is the root, a trailing "/" names a folder, anything else is a
 * key-like prefix ("reports/2024" lists "reports/2024.csv" and the folder "reports/2024/").
 */
export function validatePrefix(prefix: unknown): string {
  if (prefix === "") return "";
  return check(prefix, true);
}
