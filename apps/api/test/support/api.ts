import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type BerthConfig } from "@berth/core/cluster";
import type { DatabaseConfig } from "@berth/core/db";
import { createApiToken } from "@berth/core/tokens";
import type { GraphQLFormattedError } from "graphql";
import { freshPostgres, type Backend } from "../../../../packages/core/test/support/databases.js";
import type { PodRuntime } from "@berth/core/runtime";
import { FakeRuntime } from "../../../../packages/core/test/support/core.js";
import { createServices, type Services } from "../../src/services.js";
import { createBerthYoga, type BerthYoga, type BerthYogaOptions } from "../../src/yoga.js";

export { backends, type Backend } from "../../../../packages/core/test/support/databases.js";

/** For beforeAll hooks that start an API: the embedded database compiles its WASM at start, slow on a busy machine. */
export const STARTUP_TIMEOUT_MS = 180_000;

// Results are read field by field in tests; typing every document would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

export interface GqlResult<T = Loose> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

export interface TestApi {
  yoga: BerthYoga;
  services: Services;
  config: BerthConfig;
  /** The bootstrap admin token (BERTH_ADMIN_TOKEN of this API). */
  adminToken: string;
  /**
   * POSTs a GraphQL document as JSON. `token`: omitted → the admin token; null → no
   * Authorization header; a string → that bearer token.
   */
  gql<T = Loose>(document: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  /** Any request to the API (`/healthz`, multipart, raw bodies), with no port. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Creates a token of `role` directly in core and returns its secret. */
  tokenFor(role: "admin" | "operator" | "viewer" | "agent", options?: { name?: string; pool?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface CreateTestApiOptions extends BerthYogaOptions {
  backend: Backend;
  /** The pod runtime (default: an in-memory one, so no test spawns agents by accident). */
  runtime?: PodRuntime;
  /** Extra environment for loadConfig, e.g. { MAX_QUERY_DEPTH: "3", REDIS_URL: ... }. */
  env?: Record<string, string>;
}

/**
 * A real API on a fresh database of its own (PGlite in memory, or a PostgreSQL database copied
 * from the migrated template), served through `yoga.fetch`: no port, nothing left behind.
 */
export async function createTestApi(options: CreateTestApiOptions): Promise<TestApi> {
  const adminToken = `test-admin-${randomBytes(16).toString("hex")}`;
  let database: DatabaseConfig;
  let dropDatabase = async () => {};
  if (options.backend === "postgres") {
    const fresh = await freshPostgres();
    database = { kind: "postgres", url: fresh.url, poolSize: 4 };
    dropDatabase = fresh.drop;
  } else {
    database = { kind: "pglite-memory" };
  }
  // Its own data directory, for whatever keeps files (local storage), removed at close.
  const dataDir = await mkdtemp(join(tmpdir(), "berth-api-test-"));
  const cleanup = async () => {
    await dropDatabase();
    // Retried: local storage may still be writing its first files (signing secret) when a short test ends.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  };
  let config: BerthConfig;
  let services: Services;
  try {
    config = loadConfig({ BERTH_ADMIN_TOKEN: adminToken, BERTH_DATA_DIR: dataDir, BERTH_ENV: "test", LOG_LEVEL: "error", ...options.env });
    services = await createServices(config, { database, runtime: options.runtime ?? new FakeRuntime() });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const yoga = createBerthYoga(services, options);
  const fetch = (path: string, init?: RequestInit) => Promise.resolve(yoga.fetch(`http://berth.test${path}`, init ?? {}));
  return {
    yoga,
    services,
    config,
    adminToken,
    fetch,
    async gql(document, variables, token = adminToken) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query: document, variables }) });
      const body = (await response.json()) as Omit<GqlResult, "status">;
      return { status: response.status, ...body };
    },
    async tokenFor(role, tokenOptions = {}) {
      const { token } = await createApiToken(services.prisma, { name: tokenOptions.name ?? `test-${role}`, role, pool: tokenOptions.pool });
      return token;
    },
    async close() {
      await services.close();
      await cleanup();
    },
  };
}
