import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ApiTokenNotFoundError,
  createApiToken,
  ensureBootstrapAdminToken,
  InvalidTokenNameError,
  InvalidTokenRoleError,
  listApiTokens,
  mintAgentToken,
  revokeApiToken,
  secretAgentTokenIssuer,
  TokenPoolNotAllowedError,
  TokenPoolNotFoundError,
  verifyApiToken,
} from "../../src/tokens/index.js";
import { backends, openTestDatabase, type TestDatabase } from "../support/databases.js";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe.each(backends)("API tokens on %s", (backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(backend);
  });
  afterAll(() => t.drop());
  beforeEach(async () => {
    await t.db.prisma.apiToken.deleteMany();
  });

  it("returns the secret once and stores only its SHA-256 hash and a short prefix", async () => {
    const { token, record } = await createApiToken(t.db.prisma, { name: "ci", role: "operator" });
    expect(token).toMatch(/^berth_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: "ci", role: "operator", poolId: null, pool: null, revokedAt: null, prefix: token.slice(0, 12) });
    expect(record).not.toHaveProperty("tokenHash");
    const row = await t.db.prisma.apiToken.findUniqueOrThrow({ where: { id: record.id } });
    expect(row.tokenHash).toBe(sha256(token));
    expect(Object.values(row)).not.toContain(token);
    const other = await createApiToken(t.db.prisma, { name: "ci", role: "operator" });
    expect(other.token).not.toBe(token);
  });

  it("verifies a token to its identity, and refuses unknown, malformed and revoked ones", async () => {
    const { token, record } = await createApiToken(t.db.prisma, { name: "dash", role: "viewer" });
    expect(await verifyApiToken(t.db.prisma, token)).toEqual({ id: record.id, name: "dash", role: "viewer", poolId: null });
    expect(await verifyApiToken(t.db.prisma, token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"))).toBeNull();
    expect(await verifyApiToken(t.db.prisma, "")).toBeNull();
    expect(await verifyApiToken(t.db.prisma, "x".repeat(10_000))).toBeNull();
    await revokeApiToken(t.db.prisma, record.id);
    expect(await verifyApiToken(t.db.prisma, token)).toBeNull();
  });

  it("writes lastUsedAt at most once a minute", async () => {
    const { token, record } = await createApiToken(t.db.prisma, { name: "poller", role: "viewer" });
    const lastUsed = async () => (await t.db.prisma.apiToken.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt?.toISOString();
    const t0 = new Date("2030-01-01T00:00:00.000Z");
    await verifyApiToken(t.db.prisma, token, { now: t0 });
    expect(await lastUsed()).toBe(t0.toISOString());
    await verifyApiToken(t.db.prisma, token, { now: new Date(t0.getTime() + 59_000) });
    expect(await lastUsed()).toBe(t0.toISOString());
    const t2 = new Date(t0.getTime() + 61_000);
    await verifyApiToken(t.db.prisma, token, { now: t2 });
    expect(await lastUsed()).toBe(t2.toISOString());
  });

  it.each([
    [{ name: "x", role: "root" }, InvalidTokenRoleError, "role"],
    [{ name: "x", role: "" }, InvalidTokenRoleError, "role"],
    [{ name: "   ", role: "viewer" }, InvalidTokenNameError, "name"],
    [{ name: "a".repeat(101), role: "viewer" }, InvalidTokenNameError, "name"],
    [{ name: "bad\nname", role: "viewer" }, InvalidTokenNameError, "name"],
    [{ name: "x", role: "viewer", pool: "workers" }, TokenPoolNotAllowedError, "pool"],
  ])("refuses %o with a typed error naming the field, and stores nothing", async (input, type, field) => {
    const error = await createApiToken(t.db.prisma, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ kind: "validation", field });
    expect(await t.db.prisma.apiToken.count()).toBe(0);
  });

  it("limits an agent token to a pool given by name or id, and refuses an unknown pool", async () => {
    const pool = await t.db.prisma.pool.upsert({ where: { name: "tok-pool" }, create: { name: "tok-pool" }, update: {} });
    const byName = await createApiToken(t.db.prisma, { name: "agent", role: "agent", pool: "tok-pool" });
    expect(byName.record).toMatchObject({ poolId: pool.id, pool: "tok-pool" });
    expect((await verifyApiToken(t.db.prisma, byName.token))?.poolId).toBe(pool.id);
    const byId = await createApiToken(t.db.prisma, { name: "agent", role: "agent", poolId: pool.id });
    expect(byId.record.pool).toBe("tok-pool");
    await expect(createApiToken(t.db.prisma, { name: "agent", role: "agent", pool: "nope" })).rejects.toBeInstanceOf(TokenPoolNotFoundError);
    await expect(createApiToken(t.db.prisma, { name: "agent", role: "agent", poolId: "not-a-uuid" })).rejects.toBeInstanceOf(TokenPoolNotFoundError);
    expect(await t.db.prisma.apiToken.count()).toBe(2);
  });

  it("revoking is idempotent, lists hide revoked tokens unless asked, unknown ids are typed errors", async () => {
    const a = await createApiToken(t.db.prisma, { name: "a", role: "viewer" });
    const b = await createApiToken(t.db.prisma, { name: "b", role: "operator" });
    const revoked = await revokeApiToken(t.db.prisma, a.record.id, { now: new Date("2030-01-01T00:00:00Z") });
    expect(revoked.revokedAt?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    const again = await revokeApiToken(t.db.prisma, a.record.id);
    expect(again.revokedAt?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect((await listApiTokens(t.db.prisma)).map((r) => r.name)).toEqual(["b"]);
    expect((await listApiTokens(t.db.prisma, { includeRevoked: true })).map((r) => r.name).sort()).toEqual(["a", "b"]);
    await expect(revokeApiToken(t.db.prisma, "00000000-0000-4000-8000-000000000000")).rejects.toBeInstanceOf(ApiTokenNotFoundError);
    await expect(revokeApiToken(t.db.prisma, "'; DROP TABLE x")).rejects.toBeInstanceOf(ApiTokenNotFoundError);
    expect(await verifyApiToken(t.db.prisma, b.token)).not.toBeNull();
  });

  it("issues the agent tokens of a pool's Kubernetes Secret, and revokes only its own unused, older ones", async () => {
    await t.db.prisma.pool.upsert({ where: { name: "kp" }, create: { name: "kp" }, update: {} });
    const issuer = secretAgentTokenIssuer(t.db.prisma);
    const a = await issuer.mint("kp");
    const b = await issuer.mint("kp");
    const other = await mintAgentToken(t.db.prisma, { pool: "kp", name: "made by an admin", replacePrevious: false });
    expect(await verifyApiToken(t.db.prisma, a.token)).toMatchObject({ id: a.id, role: "agent" });
    expect(await issuer.isValid("kp", a.id)).toBe(true);

    // Nothing older than the cut-off: nothing revoked.
    expect((await issuer.revokeUnused("kp", [], new Date(Date.now() - 60_000))).sort()).toEqual([a.id, b.id].sort());
    // Keep b; a goes. The admin's token of the same pool is not the issuer's to revoke.
    expect(await issuer.revokeUnused("kp", [b.id], new Date(Date.now() + 60_000))).toEqual([b.id]);
    expect(await issuer.isValid("kp", a.id)).toBe(false);
    expect(await verifyApiToken(t.db.prisma, a.token)).toBeNull();
    expect(await verifyApiToken(t.db.prisma, other.token)).not.toBeNull();
    expect(await issuer.isValid("other-pool", b.id)).toBe(false);
  });

  describe("bootstrap admin token", () => {
    it("without a configured token, creates a random admin token on first start only", async () => {
      const first = await ensureBootstrapAdminToken(t.db.prisma);
      expect(first.created).toBe(true);
      expect(first.token).toMatch(/^berth_/);
      expect((await verifyApiToken(t.db.prisma, first.token!))?.role).toBe("admin");
      const second = await ensureBootstrapAdminToken(t.db.prisma);
      expect(second).toEqual({ token: null, record: null, created: false });
      expect(await t.db.prisma.apiToken.count()).toBe(1);
    });

    it("two starts at once mint one admin token, not two", async () => {
      const results = await Promise.all([ensureBootstrapAdminToken(t.db.prisma), ensureBootstrapAdminToken(t.db.prisma)]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await t.db.prisma.apiToken.count({ where: { role: "admin" } })).toBe(1);
    });

    it("creates a new one when every admin token was revoked, so an operator is never locked out", async () => {
      const first = await ensureBootstrapAdminToken(t.db.prisma);
      await revokeApiToken(t.db.prisma, first.record!.id);
      const next = await ensureBootstrapAdminToken(t.db.prisma);
      expect(next.created).toBe(true);
      expect(next.token).not.toBe(first.token);
    });

    it("with BERTH_ADMIN_TOKEN, that value is an admin token; starting again changes nothing and prints nothing", async () => {
      const configured = "configured-admin-token-0123456789";
      const first = await ensureBootstrapAdminToken(t.db.prisma, configured);
      expect(first).toMatchObject({ token: null, created: true, record: { name: "bootstrap", role: "admin", prefix: "configur" } });
      expect(await verifyApiToken(t.db.prisma, configured)).toMatchObject({ role: "admin", name: "bootstrap" });
      const again = await ensureBootstrapAdminToken(t.db.prisma, configured);
      expect(again).toMatchObject({ token: null, created: false });
      expect(await t.db.prisma.apiToken.count()).toBe(1);
    });

    it("a configured token that was revoked is restored at start, and changing the value rotates it", async () => {
      const one = "first-configured-token-abcdefgh";
      const r1 = await ensureBootstrapAdminToken(t.db.prisma, one);
      await revokeApiToken(t.db.prisma, r1.record!.id);
      expect(await verifyApiToken(t.db.prisma, one)).toBeNull();
      await ensureBootstrapAdminToken(t.db.prisma, one);
      expect(await verifyApiToken(t.db.prisma, one)).not.toBeNull();

      const two = "second-configured-token-ijklmnop";
      await ensureBootstrapAdminToken(t.db.prisma, two);
      expect(await verifyApiToken(t.db.prisma, two)).toMatchObject({ role: "admin" });
      expect(await verifyApiToken(t.db.prisma, one)).toBeNull();
    });

    it("with a configured token, a random one generated earlier stops working", async () => {
      const generated = await ensureBootstrapAdminToken(t.db.prisma);
      await ensureBootstrapAdminToken(t.db.prisma, "now-configured-token-12345678");
      expect(await verifyApiToken(t.db.prisma, generated.token!)).toBeNull();
    });
  });

  it("a minted agent token replaces the earlier ones of the same name and pool when asked, and only those", async () => {
    const pools = ["demo", "batch"];
    for (const name of pools) await t.db.prisma.pool.create({ data: { name } });
    const name = "local agents of demo on api-1";
    const first = await mintAgentToken(t.db.prisma, { pool: "demo", name, replacePrevious: true });
    const otherReplica = await mintAgentToken(t.db.prisma, { pool: "demo", name: "local agents of demo on api-2", replacePrevious: true });
    const otherPool = await mintAgentToken(t.db.prisma, { pool: "batch", name, replacePrevious: true });
    const kept = await mintAgentToken(t.db.prisma, { pool: "demo", name: "agents of demo on api-1", replacePrevious: false });
    expect(first.revoked).toBe(0);
    expect(await verifyApiToken(t.db.prisma, first.token)).toMatchObject({ role: "agent", poolId: first.record.poolId });

    // The same process starting again: its previous token stops working, the others do not.
    const second = await mintAgentToken(t.db.prisma, { pool: "demo", name, replacePrevious: true });
    expect(second.revoked).toBe(1);
    expect(await verifyApiToken(t.db.prisma, first.token)).toBeNull();
    for (const still of [second, otherReplica, otherPool, kept]) expect(await verifyApiToken(t.db.prisma, still.token)).not.toBeNull();
    // Without replacePrevious nothing is revoked.
    const third = await mintAgentToken(t.db.prisma, { pool: "demo", name: "agents of demo on api-1", replacePrevious: false });
    expect(third.revoked).toBe(0);
    expect(await verifyApiToken(t.db.prisma, kept.token)).not.toBeNull();
    expect((await listApiTokens(t.db.prisma)).filter((r) => r.name === name).map((r) => r.pool).sort()).toEqual(["batch", "demo"]);
  });
});
