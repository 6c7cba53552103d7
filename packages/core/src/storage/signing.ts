import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidKeyError } from "./errors.js";
import { validateKey } from "./keys.js";

/** The path under the API's public base URL where share links are served. */
export const LOCAL_FILES_PATH = "/files/";

/** Why a share link was refused: malformed, expired, not signed by this server, or made for an earlier version of the object. */
export type SignatureFailure = "malformed" | "expired" | "mismatch" | "superseded";

export type SignatureCheck = { valid: true } | { valid: false; reason: SignatureFailure };

const FAILURES: Record<SignatureFailure, string> = {
  malformed: "malformed",
  expired: "expired",
  mismatch: "not validly signed",
  superseded: "for an object that was deleted or replaced since the link was made",
};

/** A share link that is malformed, expired, not signed by this server, or outlived its object. */
export class InvalidSignatureError extends Error {
  constructor(readonly reason: SignatureFailure) {
    super(`the file link is ${FAILURES[reason]}`);
    this.name = "InvalidSignatureError";
  }
}

/**
 * Which version of an object a link is for: its etag and modification time, digested. Deleting
 * and re-creating the key, or overwriting it, makes another version, and the link dies with the
 * first. (An object store keeps times to the second: the same bytes stored again within the same
 * second are the same version, which serves the same bytes.)
 */
export function objectVersion(object: { etag: string; lastModified: Date }): string {
  return createHash("sha256").update(`${object.etag}\n${object.lastModified.getTime()}`).digest("hex").slice(0, 16);
}

/** HMAC-SHA256 over the expiry, the object's version and the key; the newline cannot occur in any of them. */
export function shareLinkSignature(key: string, expires: number, version: string, secret: string): string {
  return createHmac("sha256", secret).update(`${expires}\n${version}\n${key}`).digest("hex");
}

/** Each segment percent-encoded, the slashes kept, so the URL path mirrors the key's folders. */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** `<publicBaseUrl>/files/<encoded key>?expires=<unix s>&v=<version>&signature=<hex>` */
export function signShareLink(publicBaseUrl: string, key: string, expires: number, version: string, secret: string): string {
  const base = publicBaseUrl.replace(/\/+$/, "");
  const signature = shareLinkSignature(key, expires, version, secret);
  return `${base}${LOCAL_FILES_PATH}${encodeKeyPath(key)}?expires=${expires}&v=${version}&signature=${signature}`;
}

/**
 * Checks a signature taken from a URL's query string. Pure: the clock is passed in. The
 * comparison takes the same time wherever the signatures differ. Whether the version is still
 * the object's is for the caller, who reads the object.
 */
export function verifyShareLinkSignature(
  key: string,
  expires: string | number | null | undefined,
  version: string | null | undefined,
  signature: string | null | undefined,
  secret: string,
  now: Date | number,
): SignatureCheck {
  const expiresText = String(expires ?? "");
  if (!/^\d{1,15}$/.test(expiresText) || typeof signature !== "string" || !/^[0-9a-f]{64}$/.test(signature)) {
    return { valid: false, reason: "malformed" };
  }
  if (typeof version !== "string" || !/^[0-9a-f]{16}$/.test(version)) return { valid: false, reason: "malformed" };
  const expiresAt = Number(expiresText);
  const expected = Buffer.from(shareLinkSignature(key, expiresAt, version, secret), "hex");
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return { valid: false, reason: "mismatch" };
  const nowSeconds = Math.floor((typeof now === "number" ? now : now.getTime()) / 1000);
  if (nowSeconds >= expiresAt) return { valid: false, reason: "expired" };
  return { valid: true };
}

/**
 * The key named by a request path: "/files/a/b%20c.txt" (or just "a/b%20c.txt") → "a/b c.txt".
 * Throws InvalidKeyError for anything `validateKey` refuses once decoded.
 */
export function keyFromFilesPath(path: string): string {
  const encoded = path.startsWith(LOCAL_FILES_PATH) ? path.slice(LOCAL_FILES_PATH.length) : path;
  let key: string;
  try {
    key = encoded.split("/").map(decodeURIComponent).join("/");
  } catch {
    throw new InvalidKeyError(encoded, "encoded-traversal", "the path has a malformed percent-escape");
  }
  return validateKey(key);
}

/**
 * The secret kept in `dir` (created on first use), so signed links survive restarts. Several
 * processes may start at once: the secret is written aside and hard-linked into place, which
 * fails if another process got there first, and then that one's secret is used.
 */
export async function loadOrCreateSigningSecret(dir: string): Promise<string> {
  const file = join(dir, "signing-secret");
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing?.trim()) return existing.trim();
  await mkdir(dir, { recursive: true });
  const aside = join(dir, `signing-secret.${randomBytes(6).toString("hex")}`);
  await writeFile(aside, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  try {
    await link(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await rm(aside, { force: true });
  }
  return (await readFile(file, "utf8")).trim();
}
