import type { PrismaClient } from "../db/index.js";
import { generateTokenSecret, hashToken, tokenPrefix } from "./secret.js";
import { apiTokenSelect, toApiTokenRecord, type ApiTokenRecord } from "./tokens.js";

export const BOOTSTRAP_TOKEN_NAME = "bootstrap";
// Replicas starting together must not each mint a first admin token.
const BOOTSTRAP_LOCK = 7424802;

export interface BootstrapResult {
  /** The secret of an admin token created just now, to print once; null when nothing new was generated. */
  token: string | null;
  /** The bootstrap admin token (the configured one, or the one created now); null when admins already existed. */
  record: ApiTokenRecord | null;
  created: boolean;
}

/**
 * Makes sure someone can administer Berth.
 * With BERTH_ADMIN_TOKEN: that value is an active admin token named "bootstrap" (restored if it
 * was revoked or demoted, since the environment is the operator's source of truth), and any
 * other active bootstrap token is revoked, so that changing the variable rotates the token.
 * Without it: when no active admin token exists (first start, or every admin token revoked),
 * a random one is created and returned, once.
 */
export async function ensureBootstrapAdminToken(prisma: PrismaClient, configuredToken?: string): Promise<BootstrapResult> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`;
    const now = new Date();
    if (configuredToken) {
      const tokenHash = hashToken(configuredToken);
      const existing = await tx.apiToken.findUnique({ where: { tokenHash }, select: { id: true, role: true, revokedAt: true } });
      let created = false;
      if (!existing) {
        await tx.apiToken.create({ data: { name: BOOTSTRAP_TOKEN_NAME, role: "admin", tokenHash, prefix: tokenPrefix(configuredToken) } });
        created = true;
      } else if (existing.role !== "admin" || existing.revokedAt) {
        await tx.apiToken.update({ where: { id: existing.id }, data: { role: "admin", revokedAt: null, poolId: null } });
      }
      await tx.apiToken.updateMany({
        where: { name: BOOTSTRAP_TOKEN_NAME, revokedAt: null, NOT: { tokenHash } },
        data: { revokedAt: now },
      });
      const row = await tx.apiToken.findUniqueOrThrow({ where: { tokenHash }, select: apiTokenSelect });
      return { token: null, record: toApiTokenRecord(row), created };
    }
    const admins = await tx.apiToken.count({ where: { role: "admin", revokedAt: null } });
    if (admins > 0) return { token: null, record: null, created: false };
    const token = generateTokenSecret();
    const row = await tx.apiToken.create({
      data: { name: BOOTSTRAP_TOKEN_NAME, role: "admin", tokenHash: hashToken(token), prefix: tokenPrefix(token) },
      select: apiTokenSelect,
    });
    return { token, record: toApiTokenRecord(row), created: true };
  });
}
