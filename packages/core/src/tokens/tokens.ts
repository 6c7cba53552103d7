import type { ApiRole, PrismaClient } from "../db/index.js";
import type { EventBus } from "../events/index.js";
import { AgentTokenPoolRequiredError, AgentTokenWithoutPoolError, ApiTokenNotFoundError, InvalidTokenNameError, InvalidTokenRoleError, TokenPoolNotAllowedError, TokenPoolNotFoundError } from "./errors.js";
import { generateTokenSecret, hashToken, tokenPrefix } from "./secret.js";

export const API_ROLES: readonly ApiRole[] = ["admin", "operator", "viewer", "agent"];

/** A token as lists show it: never the secret, only its first characters. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  role: ApiRole;
  prefix: string;
  poolId: string | null;
  /** Name of the pool an agent token is limited to. */
  pool: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Who a verified request acts as. */
export interface VerifiedApiToken {
  id: string;
  name: string;
  role: ApiRole;
  poolId: string | null;
}

export interface CreateApiTokenInput {
  name: string;
  role: string;
  /** Limit an agent token to this pool, by id ... */
  poolId?: string | null;
  /** ... or by name. */
  pool?: string | null;
}

const NAME_MAX = 100;
const TOKEN_MIN = 16;
const TOKEN_MAX = 512;
// lastUsedAt is for people reading the token list; writing it on every request would turn every read into a write.
const LAST_USED_RESOLUTION_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const select = {
  id: true,
  name: true,
  role: true,
  prefix: true,
  poolId: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  pool: { select: { name: true } },
} as const;

type Row = { id: string; name: string; role: ApiRole; prefix: string; poolId: string | null; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null; pool: { name: string } | null };

function toRecord(row: Row): ApiTokenRecord {
  return { ...row, pool: row.pool?.name ?? null };
}

export function parseApiRole(role: string): ApiRole {
  if (!(API_ROLES as readonly string[]).includes(role)) throw new InvalidTokenRoleError(role, API_ROLES);
  return role as ApiRole;
}

export function parseTokenName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new InvalidTokenNameError(name, "is empty");
  if (trimmed.length > NAME_MAX) throw new InvalidTokenNameError(name, `is longer than ${NAME_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new InvalidTokenNameError(name, "contains control characters");
  return trimmed;
}

async function resolvePoolId(prisma: PrismaClient, input: CreateApiTokenInput): Promise<string | null> {
  if (input.poolId) {
    const pool = UUID.test(input.poolId) ? await prisma.pool.findUnique({ where: { id: input.poolId }, select: { id: true } }) : null;
    if (!pool) throw new TokenPoolNotFoundError(input.poolId);
    return pool.id;
  }
  if (input.pool) {
    const pool = await prisma.pool.findUnique({ where: { name: input.pool }, select: { id: true } });
    if (!pool) throw new TokenPoolNotFoundError(input.pool);
    return pool.id;
  }
  return null;
}

/**
 * Creates a token and returns its secret, which is shown this once: only its SHA-256 hash
 * and its first characters are stored. Bad input throws a typed error and stores nothing.
 */
export async function createApiToken(prisma: PrismaClient, input: CreateApiTokenInput): Promise<{ token: string; record: ApiTokenRecord }> {
  const name = parseTokenName(input.name);
  const role = parseApiRole(input.role);
  if ((input.poolId || input.pool) && role !== "agent") throw new TokenPoolNotAllowedError(role);
  if (role === "agent" && !input.poolId && !input.pool) throw new AgentTokenPoolRequiredError();
  const poolId = await resolvePoolId(prisma, input);
  const token = generateTokenSecret();
  const row = await prisma.apiToken.create({
    data: { name, role, poolId, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
    select,
  });
  return { token, record: toRecord(row) };
}

/**
 * The identity a bearer token stands for, or null when it is unknown or revoked. Deliberately
 * uncached: a revoked token must stop working on the very next request, on every replica.
 */
export async function verifyApiToken(prisma: PrismaClient, token: string, options: { now?: Date } = {}): Promise<VerifiedApiToken | null> {
  if (typeof token !== "string" || token.length < TOKEN_MIN || token.length > TOKEN_MAX) return null;
  const row = await prisma.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, name: true, role: true, poolId: true, lastUsedAt: true, revokedAt: true },
  });
  if (!row || row.revokedAt) return null;
  const now = options.now ?? new Date();
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (!row.lastUsedAt || row.lastUsedAt < stale) {
    // Conditional, so that concurrent requests write it once.
    await prisma.apiToken.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: stale } }] },
      data: { lastUsedAt: now },
    });
  }
  return { id: row.id, name: row.name, role: row.role, poolId: row.poolId };
}

/**
 * The pool a verified token may act in as an agent: its own pool for agent tokens (one without a
 * pool, from before pools were required, is refused), null (any pool) for admins.
 */
export function agentScope(auth: VerifiedApiToken | null): { poolId: string | null } {
  if (auth?.role !== "agent") return { poolId: null };
  if (!auth.poolId) throw new AgentTokenWithoutPoolError(auth.id);
  return { poolId: auth.poolId };
}

/**
 * Revokes a token at once; revoking it again changes nothing. With `events`, every replica is
 * told, so that what it still serves the token (open subscriptions) ends now rather than at its
 * next periodic check.
 */
export async function revokeApiToken(prisma: PrismaClient, id: string, options: { now?: Date; events?: EventBus } = {}): Promise<ApiTokenRecord> {
  if (!UUID.test(id)) throw new ApiTokenNotFoundError(id);
  const now = options.now ?? new Date();
  await prisma.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
  const row = await prisma.apiToken.findUnique({ where: { id }, select });
  if (!row) throw new ApiTokenNotFoundError(id);
  if (row.revokedAt) await options.events?.publish("tokenRevoked", { tokenId: id, at: row.revokedAt.toISOString() });
  return toRecord(row);
}

/** Which of these token ids are still valid (not revoked, not deleted): one query, for periodic re-verification. */
export async function activeTokenIds(prisma: PrismaClient, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await prisma.apiToken.findMany({ where: { id: { in: [...ids] }, revokedAt: null }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

export async function listApiTokens(prisma: PrismaClient, options: { includeRevoked?: boolean } = {}): Promise<ApiTokenRecord[]> {
  const rows = await prisma.apiToken.findMany({
    where: options.includeRevoked ? {} : { revokedAt: null },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select,
  });
  return rows.map(toRecord);
}

export async function getApiToken(prisma: PrismaClient, id: string): Promise<ApiTokenRecord> {
  const row = UUID.test(id) ? await prisma.apiToken.findUnique({ where: { id }, select }) : null;
  if (!row) throw new ApiTokenNotFoundError(id);
  return toRecord(row);
}

export { select as apiTokenSelect, toRecord as toApiTokenRecord };
