// The API as production runs it: compiled by `pnpm build:server`, started with the command of
// `start:dist` (the Dockerfile's CMD), in cluster mode on PostgreSQL and Redis. It must answer
// /healthz and /readyz, load none of what this mode does not use, and import no package that a
// production install leaves out.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgres } from "../../../packages/core/test/support/databases.js";
import { postgresAvailable, REDIS_URL, redisAvailable } from "../../../packages/core/test/support/services.js";
import { productionStartArgs } from "../../../bench/support/start-command.js";
import { FakeKubeApi } from "../../../packages/core/test/runtime/fake-kube-api.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const RECORD_LOADS = fileURLToPath(new URL("./fixtures/record-loads.mjs", import.meta.url));
const children = new Set<ChildProcess>();
let dir: string;

beforeAll(async () => {
  const build = spawnSync(process.execPath, ["scripts/compile.mjs"], { cwd: ROOT, encoding: "utf8" });
  expect(build.status, build.stderr).toBe(0);
  dir = await mkdtemp(join(tmpdir(), "berth-compiled-"));
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

function start(env: Record<string, string>, extraNodeArgs: string[] = []) {
  const { args, cwd } = productionStartArgs();
  const child = spawn(process.execPath, [...extraNodeArgs, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => (children.delete(child), resolve(code))));
  return { child, exited, output: () => output };
}

async function until(what: string, check: () => Promise<boolean>, exited: Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (gone) throw new Error(`the API exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const status = (url: string) => fetch(url).then((r) => r.status, () => 0);

describe.skipIf(!postgresAvailable || !redisAvailable)("the compiled API in cluster mode", () => {
  it("answers /healthz and /readyz, loads no TypeScript, no embedded database and no Kubernetes client, and stops on SIGTERM", async () => {
    const database = await freshPostgres();
    const loaded = join(dir, "loaded.txt");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const api = start(
      {
        CLUSTER_MODE: "true",
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_PREFIX: `berth-compiled-${port}:`,
        STORAGE_TYPE: "local",
        LOCAL_STORAGE_PATH: join(dir, "files"),
        BERTH_DATA_DIR: join(dir, "data"),
        BERTH_ADMIN_TOKEN: "compiled-test-admin-token-0123",
        API_PORT: String(port),
        BERTH_TEST_LOADED_MODULES: loaded,
      },
      ["--import", RECORD_LOADS],
    );
    try {
      await until("/readyz", async () => (await status(`http://127.0.0.1:${port}/readyz`)) === 200, api.exited);
      expect(await status(`http://127.0.0.1:${port}/healthz`)).toBe(200);

      const modules = (await readFile(loaded, "utf8")).split("\n").filter(Boolean);
      expect(modules.some((m) => m.endsWith("/apps/api/dist/server.js"))).toBe(true);
      expect(modules.some((m) => m.includes("/packages/core/dist/"))).toBe(true);
      const unexpected = modules.filter(
        (m) => m.endsWith(".ts") || m.endsWith("/vendor/kubernetes-client.js") || /\/(tsx|@kubernetes\/client-node|@electric-sql\/pglite|pglite-prisma-adapter|@prisma\/schema-engine-wasm)\//.test(m),
      );
      expect(unexpected).toEqual([]);

      api.child.kill("SIGTERM");
      expect(await api.exited).toBe(0);
      expect(api.output()).toContain("SIGTERM received, shutting down");
    } finally {
      api.child.kill("SIGKILL");
      await database.drop();
    }
  });
});

describe.skipIf(!postgresAvailable || !redisAvailable)("the compiled API with Kubernetes pods", () => {
  it("runs a kubernetes pool's pods through the vendored Kubernetes client, with the agent token in a Secret", async () => {
    const kube = await new FakeKubeApi().start();
    const database = await freshPostgres();
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, kube.kubeConfig("berth").exportConfig());
    const loaded = join(dir, "loaded-kube.txt");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const admin = "compiled-test-admin-token-4567";
    const api = start(
      {
        CLUSTER_MODE: "true",
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_PREFIX: `berth-compiled-kube-${port}:`,
        STORAGE_TYPE: "local",
        LOCAL_STORAGE_PATH: join(dir, "files-kube"),
        BERTH_DATA_DIR: join(dir, "data-kube"),
        BERTH_ADMIN_TOKEN: admin,
        API_PORT: String(port),
        POD_RUNTIME: "kubernetes",
        KUBECONFIG: kubeconfig,
        KUBERNETES_NAMESPACE: "berth",
        API_URL: "http://berth-api.berth.svc:4000",
        RECONCILE_SCHEDULE: "* * * * * *",
        BERTH_TEST_LOADED_MODULES: loaded,
      },
      ["--import", RECORD_LOADS],
    );
    try {
      await until("/readyz", async () => (await status(`http://127.0.0.1:${port}/readyz`)) === 200, api.exited);
      const created = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: `mutation { createPool(input: { name: "compiled", runtime: "kubernetes", image: "berth/agent:0.1.0", minPods: 1, maxPods: 1 }) { __typename } }` }),
      }).then((r) => r.json() as Promise<{ data: { createPool: { __typename: string } } }>);
      expect(created.data.createPool.__typename).toBe("MutationCreatePoolSuccess");
      await until("the pool's pod", async () => kube.requestsMatching("POST", "/api/v1/namespaces/berth/pods").length > 0, api.exited);

      const pod = kube.requestsMatching("POST", "/api/v1/namespaces/berth/pods")[0]!.body as { spec: { containers: { name: string; env: { name: string; valueFrom?: unknown }[] }[] } };
      const secret = kube.secret("berth", "berth-agent-compiled")!;
      const key = secret.metadata.annotations!["berth.dev/agent-token"]!;
      expect(pod.spec.containers[0]!.env.find((e) => e.name === "BERTH_AGENT_TOKEN")).toEqual({ name: "BERTH_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: "berth-agent-compiled", key } } });

      const modules = (await readFile(loaded, "utf8")).split("\n").filter(Boolean);
      expect(modules.some((m) => m.endsWith("/packages/core/dist/vendor/kubernetes-client.js"))).toBe(true);
      expect(modules.filter((m) => m.includes("/@kubernetes/client-node/"))).toEqual([]);
    } finally {
      api.child.kill("SIGKILL");
      await database.drop();
      await kube.stop();
    }
  });
});

describe("the compiled server's imports", () => {
  const packages = ["packages/core", "packages/agent", "apps/api"];
  const builtin = (name: string) => name.startsWith("node:");
  // Development tooling that a function of the library loads on demand and the server never calls.
  const devOnlyOnDemand = new Set(["@prisma/schema-engine-wasm"]);

  it.each(packages)("%s/dist imports only its production dependencies", (pkg) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, pkg, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
    const distDir = join(ROOT, pkg, "dist");
    const files = readdirSync(distDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(pkg === "packages/agent" ? 5 : 10);
    const missing = new Set<string>();
    for (const file of files) {
      const code = readFileSync(join(distDir, file), "utf8");
      const imports = [
        ...Array.from(code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm), (m) => ({ specifier: m[1]!, dynamic: false })),
        ...Array.from(code.matchAll(/^\s*import\s*["']([^"']+)["']/gm), (m) => ({ specifier: m[1]!, dynamic: false })),
        ...Array.from(code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g), (m) => ({ specifier: m[1]!, dynamic: true })),
      ];
      for (const { specifier, dynamic } of imports) {
        if (specifier.startsWith(".")) continue;
        if (!specifier || builtin(specifier)) continue;
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
        if (allowed.has(name)) continue;
        if (dynamic && devOnlyOnDemand.has(name)) continue;
        missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

describe("the compiled API with Kubernetes pods", () => {
  it("stops at start-up with one line when API_URL is a loopback address the pods cannot reach", async () => {
    const api = start({
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      DATABASE_URL: "postgresql://postgres@127.0.0.1:1/unused",
      REDIS_URL: "redis://127.0.0.1:1",
      STORAGE_TYPE: "local",
      API_URL: "http://127.0.0.1:4000",
    });
    expect(await api.exited).toBe(1);
    expect(api.output()).toBe(
      'berth: API_URL="http://127.0.0.1:4000" is invalid: expected an address the pools\' pods can reach (e.g. http://berth-api.berth.svc:4000), not a loopback one, when pods are Kubernetes pods\n',
    );
  });
});
