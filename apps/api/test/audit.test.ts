// The audit log: every mutation (not the agent protocol) recorded by one layer with who, what,
// on what and how it ended, never a secret; read by admins only; pruned by retention.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneAudit, recordAudit } from "@berth/core/audit";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { backends, createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const backend = backends.includes("postgres") ? "postgres" : "pglite";

const LOG = `query($first: Int, $after: String, $filter: AuditFilter) {
  auditLog(first: $first, after: $after, filter: $filter) { edges { node { at actor role operation target outcome } } pageInfo { hasNextPage endCursor } } }`;
type Entry = { at: string; actor: string; role: string; operation: string; target: string | null; outcome: string };

describe(`the audit log on ${backend}`, () => {
  let api: TestApi;
  let runtime: FakeRuntime;
  let operator: string;
  beforeAll(async () => {
    runtime = new FakeRuntime();
    api = await createTestApi({ backend, runtime });
    operator = await api.tokenFor("operator", { name: "ops-carol" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const entries = async (filter: Record<string, unknown> = {}, first = 200): Promise<Entry[]> => {
    const result = await api.gql(LOG, { first, filter });
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data.auditLog.edges.map((e: { node: Entry }) => e.node);
  };
  const latest = async (operation: string) => (await entries({ operation }))[0];

  it("records each kind of mutation with the token's name and role, the target and ok", async () => {
    const run = async (document: string, variables: Record<string, unknown> = {}, token?: string) => {
      const result = await api.gql(document, variables, token);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return result.data;
    };
    await run(`mutation { createPool(input: { name: "audited", minPods: 0, maxPods: 2, autoscale: false }) { __typename } }`, {}, operator);
    await run(`mutation { updatePool(name: "audited", input: { maxPods: 3 }) { __typename } }`, {}, operator);
    await run(`mutation { scalePool(name: "audited", pods: 1) { __typename } }`, {}, operator);
    const submitted = await run(`mutation { submitTask(input: { pool: "audited", type: "plan", payload: { secret: "s3cr3t-payload" } }) { ... on MutationSubmitTaskSuccess { data { id } } } }`, {}, operator);
    const taskId = submitted.submitTask.data.id as string;
    await run(`mutation($id: ID!) { cancelTask(id: $id) { __typename } }`, { id: taskId }, operator);
    const token = await run(`mutation { createApiToken(name: "ci-bot", role: "viewer") { ... on MutationCreateApiTokenSuccess { data { id token } } } }`);
    await run(`mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`, { id: token.createApiToken.data.id });
    await run(`mutation { pauseCronJob(name: "expire-reservations") { __typename } }`, {}, operator);
    await run(`mutation { resumeCronJob(name: "expire-reservations") { __typename } }`, {}, operator);
    await run(`mutation { createSchedule(input: { name: "nightly", cron: "0 0 3 * * *", pool: "audited", taskType: "plan" }) { __typename } }`, {}, operator);
    await run(`mutation { pauseSchedule(name: "nightly", note: "freeze") { __typename } }`, {}, operator);
    await run(`mutation { deleteSchedule(name: "nightly") { __typename } }`, {}, operator);
    expect((await api.fetch("/files/reports/a%20b.txt", { method: "PUT", body: "hello", headers: { authorization: `Bearer ${operator}` } })).status).toBe(200);
    await run(`{ presignedUrl(key: "reports/a b.txt", expiresIn: 60) }`, {}, operator);
    await run(`mutation { deleteObject(key: "reports/a b.txt") { __typename } }`, {}, operator);
    const pod = [...runtime.pods.keys()][0]!;
    await run(`mutation($pod: String!) { drainPod(pool: "audited", pod: $pod) { __typename } }`, { pod }, operator);
    await run(`mutation { deletePool(name: "audited") { __typename } }`, {}, operator);

    const expected: [string, string | null][] = [
      ["createPool", "audited"],
      ["updatePool", "audited"],
      ["scalePool", "audited"],
      ["submitTask", taskId],
      ["cancelTask", taskId],
      ["createApiToken", "ci-bot"],
      ["revokeApiToken", token.createApiToken.data.id],
      ["pauseCronJob", "expire-reservations"],
      ["resumeCronJob", "expire-reservations"],
      ["createSchedule", "nightly"],
      ["pauseSchedule", "nightly"],
      ["deleteSchedule", "nightly"],
      ["uploadFile", "reports/a b.txt"],
      ["presignedUrl", "reports/a b.txt"],
      ["deleteObject", "reports/a b.txt"],
      ["drainPod", pod],
      ["deletePool", "audited"],
    ];
    const log = (await entries()).reverse();
    expect(log.map((e) => [e.operation, e.target])).toEqual(expected);
    for (const entry of log) {
      expect(entry.outcome).toBe("ok");
      expect(entry.actor).toBe(entry.operation.includes("ApiToken") ? "bootstrap" : "ops-carol");
      expect(entry.role).toBe(entry.operation.includes("ApiToken") ? "admin" : "operator");
    }
    // No secret and no payload anywhere in the log.
    const stored = JSON.stringify(await api.services.prisma.auditEntry.findMany());
    expect(stored).not.toContain(token.createApiToken.data.token);
    expect(stored).not.toContain("s3cr3t-payload");
    expect(stored).not.toContain("X-Berth-Signature".toLowerCase());
  });

  it("records failures with their error code: a returned error, a refused role, a bad upload", async () => {
    await api.gql(`mutation { createPool(input: { name: "Bad Name" }) { __typename } }`, {}, operator);
    expect(await latest("createPool")).toMatchObject({ target: "Bad Name", outcome: "BAD_USER_INPUT", actor: "ops-carol" });
    await api.gql(`mutation { cancelTask(id: "00000000-0000-4000-8000-000000000000") { __typename } }`, {}, operator);
    expect(await latest("cancelTask")).toMatchObject({ outcome: "NOT_FOUND" });
    const viewer = await api.tokenFor("viewer", { name: "read-only-dan" });
    const refused = await api.gql(`mutation { deletePool(name: "anything") { __typename } }`, {}, viewer);
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await latest("deletePool")).toMatchObject({ actor: "read-only-dan", role: "viewer", target: "anything", outcome: "FORBIDDEN" });
    expect((await api.fetch("/files/x.txt", { method: "PUT", body: "x", headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);
    expect(await latest("uploadFile")).toMatchObject({ actor: "read-only-dan", outcome: "FORBIDDEN" });
    expect(await entries({ outcome: "error" })).toHaveLength(4);
  });

  it("does not record the agent protocol", async () => {
    await api.services.pools.createPool({ name: "agents", minPods: 0, maxPods: 1, autoscale: false });
    const agent = await api.tokenFor("agent", { pool: "agents" });
    await api.gql(`mutation { scalePool(name: "agents", pods: 1) { __typename } }`);
    const pod = [...runtime.pods.keys()].find((name) => name.startsWith("agents-"))!;
    expect((await api.gql(`mutation($pod: String!) { registerAgent(pod: $pod) { __typename } }`, { pod }, agent)).data.registerAgent.__typename).toBe("MutationRegisterAgentSuccess");
    await api.gql(`mutation($pod: String!) { heartbeat(pod: $pod) { __typename } }`, { pod }, agent);
    const operations = new Set((await entries()).map((e) => e.operation));
    expect(operations.has("registerAgent")).toBe(false);
    expect(operations.has("heartbeat")).toBe(false);
    expect(operations.has("scalePool")).toBe(true);
  });

  it("filters by actor, operation, target and time, and pages forward", async () => {
    expect((await entries({ actor: "read-only-dan" })).every((e) => e.actor === "read-only-dan")).toBe(true);
    expect((await entries({ target: "REPORTS/" })).map((e) => e.operation).sort()).toEqual(["deleteObject", "presignedUrl", "uploadFile"]);
    expect(await entries({ from: "2999-01-01T00:00:00Z" })).toEqual([]);
    const all = await entries();
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await api.gql(LOG, { first: 7, after });
      const conn: { edges: { node: Entry }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = result.data.auditLog;
      seen.push(...conn.edges.map((e) => `${e.node.at}${e.node.operation}`));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((e) => `${e.at}${e.operation}`));
  });

  it("operators and viewers may not read the audit log", async () => {
    for (const role of ["operator", "viewer"] as const) {
      const result = await api.gql(LOG, { first: 5 }, await api.tokenFor(role));
      expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect(result.data?.auditLog ?? null).toBeNull();
    }
  });

  it("retention: the housekeeping job prunes entries older than AUDIT_RETENTION_DAYS and keeps the rest", async () => {
    const now = api.services.core.now();
    await recordAudit(api.services.core, { actor: "old", role: "admin", operation: "deletePool", target: "ancient", outcome: "ok", at: new Date(now.getTime() - 91 * 86_400_000) });
    await recordAudit(api.services.core, { actor: "old", role: "admin", operation: "deletePool", target: "recent", outcome: "ok", at: new Date(now.getTime() - 89 * 86_400_000) });
    const triggered = await api.gql(`mutation { triggerCronJob(name: "prune-cron-history") { __typename } }`);
    expect(triggered.data.triggerCronJob.__typename).toBe("MutationTriggerCronJobSuccess");
    await expect.poll(async () => (await entries({ actor: "old" })).map((e) => e.target), { timeout: 10_000 }).toEqual(["recent"]);
    expect(api.config.auditRetentionDays).toBe(90);
    expect(await pruneAudit(api.services.core, 1)).toBeGreaterThanOrEqual(1);
    expect((await entries({ actor: "old" })).length).toBe(0);
  });
});
