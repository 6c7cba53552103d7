import { createHash, randomBytes } from "node:crypto";

/** Tokens Berth generates: a recognisable prefix and 256 random bits. */
export function generateTokenSecret(): string {
  return `berth_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * What lists show to tell tokens apart. At most a quarter of the token, so that even a short
 * configured token (16 characters) keeps nearly all of its secret.
 */
export function tokenPrefix(token: string): string {
  return token.slice(0, Math.min(12, Math.floor(token.length / 4)));
}
