import { verifyApiToken, type VerifiedApiToken } from "@berth/core/tokens";
import type { Services } from "./services.js";

/** What every resolver gets. */
export interface BerthContext {
  services: Services;
  /** The token this request acts as; null when none was sent or it was not accepted. */
  auth: VerifiedApiToken | null;
  /** A token was sent but is unknown or revoked, so the error can say so. */
  tokenRejected: boolean;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The bearer token of an `Authorization` value, if it is one. */
export function bearerToken(authorization: string | null | undefined): string | null {
  if (typeof authorization !== "string") return null;
  return BEARER.exec(authorization)?.[1] ?? null;
}

/** WebSocket clients cannot set headers: they send `{ authorization: "Bearer ..." }` as connection params. */
export function authorizationFromConnectionParams(params: unknown): string | null {
  if (!params || typeof params !== "object") return null;
  const record = params as Record<string, unknown>;
  const value = record.authorization ?? record.Authorization;
  return typeof value === "string" ? value : null;
}

export async function createContext(services: Services, authorization: string | null | undefined): Promise<BerthContext> {
  const token = bearerToken(authorization);
  if (!token) return { services, auth: null, tokenRejected: typeof authorization === "string" && authorization.length > 0 };
  const auth = await verifyApiToken(services.prisma, token);
  return { services, auth, tokenRejected: auth === null };
}
