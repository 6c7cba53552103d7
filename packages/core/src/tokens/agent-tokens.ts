import type { PrismaClient } from "../db/index.js";
import { createApiToken, type ApiTokenRecord } from "./tokens.js";

export interface MintAgentTokenInput {
  pool: string;
  /** Who holds it, e.g. "local agents of demo on api-1"; the name is how a successor finds it. */
  name: string;
  /**
   * Revoke the earlier agent tokens of this pool with the same name. Right when they can no
   * longer be in use: a process's local pods end with it, so its next start replaces its token.
   */
  replacePrevious: boolean;
}

/**
 * An agent token limited to one pool, minted by a process that hands it to the pods it starts
 * (only hashes are stored, so it cannot be read back after a restart). Returns the secret and
 * how many earlier tokens it replaced.
 */
export async function mintAgentToken(prisma: PrismaClient, input: MintAgentTokenInput): Promise<{ token: string; record: ApiTokenRecord; revoked: number }> {
  const minted = await createApiToken(prisma, { name: input.name, role: "agent", pool: input.pool });
  if (!input.replacePrevious) return { ...minted, revoked: 0 };
  const { count } = await prisma.apiToken.updateMany({
    where: { name: minted.record.name, role: "agent", poolId: minted.record.poolId, revokedAt: null, id: { not: minted.record.id } },
    data: { revokedAt: new Date() },
  });
  return { ...minted, revoked: count };
}
