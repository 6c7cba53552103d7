import { randomBytes, randomUUID } from "node:crypto";
import type { AgentTokenIssuer } from "../../src/runtime/agent-secrets.js";

/** An AgentTokenIssuer in memory, with the database one's rules: ids, pools, revocation, mint times. */
export class FakeTokenIssuer implements AgentTokenIssuer {
  readonly tokens = new Map<string, { pool: string; token: string; mintedAt: Date; revoked: boolean }>();
  now = () => new Date();

  async mint(pool: string) {
    const id = randomUUID();
    const token = `brt_${randomBytes(24).toString("base64url")}`;
    this.tokens.set(id, { pool, token, mintedAt: this.now(), revoked: false });
    return { id, token };
  }

  async isValid(pool: string, id: string) {
    const t = this.tokens.get(id);
    return Boolean(t && t.pool === pool && !t.revoked);
  }

  async revokeUnused(pool: string, keep: readonly string[], mintedBefore: Date) {
    for (const [id, t] of this.tokens) if (t.pool === pool && !keep.includes(id) && t.mintedAt < mintedBefore) t.revoked = true;
    return this.valid(pool);
  }

  /** Ids of the pool's tokens that still work. */
  valid(pool: string): string[] {
    return [...this.tokens].filter(([, t]) => t.pool === pool && !t.revoked).map(([id]) => id);
  }

  /** Every secret minted, valid or not. */
  secrets(): string[] {
    return [...this.tokens.values()].map((t) => t.token);
  }
}
