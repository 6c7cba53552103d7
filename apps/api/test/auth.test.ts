import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

const CREATE = /* GraphQL */ `
  mutation CreateApiToken($name: String!, $role: String!, $pool: String) {
    createApiToken(name: $name, role: $role, pool: $pool) {
      __typename
      ... on MutationCreateApiTokenSuccess { data { id name role token prefix } }
      ... on ValidationError { field }
      ... on Error { message }
    }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation Revoke($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ... on MutationRevokeApiTokenSuccess { data { id revokedAt } }
      ... on Error { message }
    }
  }
`;
const ME = "{ me { id name role } }";

describe.each(backends)("authentication and API tokens (%s)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const tokenCount = () => api.services.prisma.apiToken.count();

  it("a request without a token is UNAUTHENTICATED: a 401 before any GraphQL work", async () => {
    const res = await api.gql("{ cluster { mode } }", undefined, null);
    expect(res.status).toBe(401);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ message: expect.stringContaining("authentication required"), extensions: { code: "UNAUTHENTICATED" } });
  });

  it.each([
    ["an unknown token", "Bearer berth_unknownunknownunknownunknownunknown"],
    ["a token too short to be one", "Bearer abc"],
    ["another scheme", "Basic dXNlcjpwYXNz"],
  ])("%s is UNAUTHENTICATED (401)", async (_what, authorization) => {
    const response = await api.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify({ query: ME }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    const body = (await response.json()) as { data: unknown; errors: { message: string; extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors.map((e) => e.extensions.code)).toEqual(["UNAUTHENTICATED"]);
    expect(body.errors[0]!.message).toBe("the API token is unknown or revoked");
  });

  it("me tells who a token is; any role may ask", async () => {
    expect((await api.gql(ME)).data.me).toMatchObject({ name: "bootstrap", role: "admin" });
    await api.services.pools.createPool({ name: "agents", minPods: 0, maxPods: 1, autoscale: false }).catch(() => {});
    const agent = await api.tokenFor("agent", { name: "agent-7", pool: "agents" });
    expect((await api.gql(ME, undefined, agent)).data.me).toMatchObject({ name: "agent-7", role: "agent" });
  });

  it("cluster answers what detection decided", async () => {
    const viewer = await api.tokenFor("viewer");
    const res = await api.gql("{ cluster { mode replicaId totalReplicas environment clustered } }", undefined, viewer);
    expect(res.errors).toBeUndefined();
    const { mode, replicaId, totalReplicas, environment, clustered } = api.config.cluster;
    expect(res.data.cluster).toEqual({ mode, replicaId, totalReplicas, environment: "test", clustered });
    expect(environment).toBe("test");
  });

  it("an agent token may not read what people read (FORBIDDEN)", async () => {
    await api.services.pools.createPool({ name: "agents", minPods: 0, maxPods: 1, autoscale: false }).catch(() => {});
    const agent = await api.tokenFor("agent", { pool: "agents" });
    const res = await api.gql("{ cluster { mode } }", undefined, agent);
    expect(res.errors?.[0]).toMatchObject({ message: "agent tokens may not use Query.cluster", extensions: { code: "FORBIDDEN" } });
  });

  it.each(["viewer", "operator", "agent"] as const)("a %s token cannot create tokens: FORBIDDEN, and no token is stored", async (role) => {
    await api.services.pools.createPool({ name: "agents", minPods: 0, maxPods: 1, autoscale: false }).catch(() => {});
    const token = await api.tokenFor(role, role === "agent" ? { pool: "agents" } : {});
    const before = await tokenCount();
    const res = await api.gql(CREATE, { name: "sneaky", role: "admin" }, token);
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect(await tokenCount()).toBe(before);
    expect(await api.services.prisma.apiToken.count({ where: { name: "sneaky" } })).toBe(0);
  });

  it("a viewer cannot list tokens either", async () => {
    const viewer = await api.tokenFor("viewer");
    const res = await api.gql("{ apiTokens { id } }", undefined, viewer);
    expect(res.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("createApiToken shows the secret once; only its hash is stored and lists never show it", async () => {
    const res = await api.gql(CREATE, { name: "deploy bot", role: "operator" });
    expect(res.errors).toBeUndefined();
    const created = res.data.createApiToken;
    expect(created.__typename).toBe("MutationCreateApiTokenSuccess");
    const { token, id } = created.data;
    expect(created.data).toMatchObject({ name: "deploy bot", role: "operator", prefix: token.slice(0, 12) });
    expect(token).toMatch(/^berth_[A-Za-z0-9_-]{43}$/);

    const row = await api.services.prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(row.tokenHash).toBe(sha256(token));
    expect(JSON.stringify(row)).not.toContain(token);

    const list = await api.gql("{ apiTokens { id name role prefix } }");
    expect(list.data.apiTokens).toContainEqual({ id, name: "deploy bot", role: "operator", prefix: token.slice(0, 12) });
    expect(JSON.stringify(list)).not.toContain(token);
    const asking = await api.gql("{ apiTokens { token } }");
    expect(asking.errors?.[0]?.message).toMatch(/Cannot query field "token" on type "ApiToken"/);

    expect((await api.gql(ME, undefined, token)).data.me).toMatchObject({ id, role: "operator" });
  });

  it("a bad role is a ValidationError naming the field, and nothing is stored", async () => {
    const before = await tokenCount();
    const res = await api.gql(CREATE, { name: "x", role: "superuser" });
    expect(res.errors).toBeUndefined();
    expect(res.data.createApiToken).toEqual({
      __typename: "ValidationError",
      field: "role",
      message: 'role "superuser" is not one of admin, operator, viewer, agent',
    });
    expect(await tokenCount()).toBe(before);
  });

  it("a pool that does not exist is a NotFoundError", async () => {
    const res = await api.gql(CREATE, { name: "a", role: "agent", pool: "no-such-pool" });
    expect(res.data.createApiToken).toEqual({ __typename: "NotFoundError", message: 'pool "no-such-pool" not found' });
  });

  it("a revoked token stops working on the very next request", async () => {
    const created = (await api.gql(CREATE, { name: "short-lived", role: "viewer" })).data.createApiToken.data;
    expect((await api.gql(ME, undefined, created.token)).data.me.name).toBe("short-lived");
    const revoked = await api.gql(REVOKE, { id: created.id });
    expect(revoked.data.revokeApiToken.__typename).toBe("MutationRevokeApiTokenSuccess");
    expect(revoked.data.revokeApiToken.data.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const after = await api.gql(ME, undefined, created.token);
    expect(after.errors?.[0]).toMatchObject({ message: "the API token is unknown or revoked", extensions: { code: "UNAUTHENTICATED" } });
    const list = await api.gql("{ apiTokens(includeRevoked: true) { id revokedAt } active: apiTokens { id } }");
    expect(list.data.apiTokens.find((t: { id: string }) => t.id === created.id).revokedAt).not.toBeNull();
    expect(list.data.active.map((t: { id: string }) => t.id)).not.toContain(created.id);
  });

  it("revoking an unknown token is a NotFoundError", async () => {
    const res = await api.gql(REVOKE, { id: "00000000-0000-4000-8000-000000000000" });
    expect(res.data.revokeApiToken).toEqual({ __typename: "NotFoundError", message: 'API token "00000000-0000-4000-8000-000000000000" not found' });
  });
});
