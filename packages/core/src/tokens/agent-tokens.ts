import type { PrismaClient } from "../db/index.js";
import type { AgentTokenIssuer } from "../runtime/agent-secrets.js";
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

/** The name of the agent tokens a pool's Kubernetes Secret holds: how the issuer finds its own. */
export function secretAgentTokenName(pool: string): string {
  return `agents of ${pool} (Kubernetes Secret)`;
}

/**
 * Agent tokens for the Kubernetes runtime, which keeps their secrets in each pool's Secret:
 * minted and revoked by id, limited to the pool, named so that other agent tokens of the pool
 * (local pods, tokens an admin made) are never touched.
 */
export function secretAgentTokenIssuer(prisma: PrismaClient, now: () => Date = () => new Date()): AgentTokenIssuer {
  const ours = (pool: string) => ({ name: secretAgentTokenName(pool), role: "agent" as const, pool: { name: pool }, revokedAt: null });
  return {
    async mint(pool) {
      const { token, record } = await createApiToken(prisma, { name: secretAgentTokenName(pool), role: "agent", pool });
      return { id: record.id, token };
    },
    async isValid(pool, id) {
      return (await prisma.apiToken.count({ where: { id, ...ours(pool) } })) > 0;
    },
    async revokeUnused(pool, keep, mintedBefore) {
      await prisma.apiToken.updateMany({
        where: { ...ours(pool), id: { notIn: [...keep] }, createdAt: { lt: mintedBefore } },
        data: { revokedAt: now() },
      });
      return (await prisma.apiToken.findMany({ where: ours(pool), select: { id: true } })).map((t) => t.id);
    },
  };
}
