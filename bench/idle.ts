// What one idle API replica costs: resident memory and start-to-ready time in cluster mode
// (PostgreSQL + Redis, no pools), started the way production starts it (compiled JavaScript,
// `pnpm --filter @berth/api start:dist`) and the way development does (TypeScript through tsx),
// against bare Node.js measured in the same run. Each process starts alone, so that start-up
// times do not compete for the CPU; then all of them idle side by side while their RSS is
// sampled, and each one's peak over the window is reported. One more replica runs a Kubernetes
// pool against the wire-format fake API, to show what loading the Kubernetes client adds.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeKubeApi } from "../packages/core/test/runtime/fake-kube-api.js";
import { figure, now, waitFor, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase, type BenchDatabase } from "./support/database.js";
import { productionStartArgs } from "./support/start-command.js";

const BENCHMARK = "idle";
const MiB = 1024 * 1024;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ADMIN_TOKEN = "bench-idle-admin-token-0123456789";
const READY_TIMEOUT_MS = 60_000;

interface Started {
  name: string;
  child: ChildProcess;
  readyMs: number;
  output: () => string;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024;
}

function launch(name: string, args: string[], env: Record<string, string>, cwd = ROOT): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  child.on("error", () => {});
  return { child, output: () => `${name}: ${tail}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Bare Node.js: ready when it has printed one line. */
async function startBareNode(): Promise<Started> {
  const started = now();
  const { child, output } = launch("bare node", ["-e", "console.log('ready'); setInterval(() => {}, 60_000)"], {});
  let ready = false;
  child.stdout!.on("data", () => (ready = true));
  await waitFor("bare node to print", () => ready || child.exitCode !== null, READY_TIMEOUT_MS, 1);
  return { name: "bare node", child, readyMs: now() - started, output };
}

/** An API replica: ready when `/readyz` answers 200 (database migrated, Redis answering). */
async function startApi(name: string, args: string[], env: Record<string, string>, cwd?: string): Promise<Started> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const started = now();
  const { child, output } = launch(name, args, { ...env, API_PORT: String(port), API_HOST: "127.0.0.1" }, cwd);
  await waitFor(
    `${name} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output()}`);
      return fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    },
    READY_TIMEOUT_MS,
    10,
  );
  return { name, child, readyMs: now() - started, output, port } as Started & { port: number };
}

async function graphql(port: number, query: string, variables: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  opts.log("idle: compiling the server (pnpm build:server)");
  const build = spawnSync(process.execPath, ["scripts/compile.mjs"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build:server failed: ${build.stderr}`);

  const databases: BenchDatabase[] = [];
  const started: Started[] = [];
  const kube = await new FakeKubeApi().start();
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-idle-"));
  try {
    const clusterEnv = async (suffix: string) => {
      const db = await freshDatabase(opts.postgresUrl, 4);
      databases.push(db);
      return {
        CLUSTER_MODE: "true",
        DATABASE_URL: db.url,
        REDIS_URL: opts.redisUrl,
        REDIS_PREFIX: `${opts.redisPrefix}${suffix}:`,
        STORAGE_TYPE: "local",
        LOCAL_STORAGE_PATH: join(dir, `files-${suffix}`),
        BERTH_DATA_DIR: join(dir, `data-${suffix}`),
        BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "error",
      };
    };
    const production = productionStartArgs();

    opts.log("idle: starting bare node, then each API replica alone");
    started.push(await startBareNode());
    started.push(await startApi("api (tsx)", ["--import", "tsx", "apps/api/src/server.ts"], await clusterEnv("tsx")));
    started.push(await startApi("api (compiled)", production.args, await clusterEnv("compiled"), production.cwd));

    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, kube.kubeConfig("bench").exportConfig());
    const withKube = (await startApi("api (compiled, kubernetes pool)", production.args, {
      ...(await clusterEnv("kube")),
      POD_RUNTIME: "kubernetes",
      KUBECONFIG: kubeconfig,
      KUBERNETES_NAMESPACE: "bench",
      API_URL: "http://berth-api.bench.svc:4000",
    }, production.cwd)) as Started & { port: number };
    started.push(withKube);
    const created = await graphql(withKube.port, "mutation($input: CreatePoolInput!) { createPool(input: $input) { __typename ... on Error { message } } }", {
      input: { name: "idle", runtime: "kubernetes", namespace: "bench", image: "agent:1", minPods: 1, maxPods: 1 },
    });
    if (JSON.stringify(created).includes("Error")) throw new Error(`could not create the kubernetes pool: ${JSON.stringify(created)}`);
    await waitFor("the kubernetes pool's first pod", () => kube.requestsMatching("POST", "/api/v1/namespaces/bench/pods").length > 0, 30_000, 50);

    const windowMs = opts.quick ? 8_000 : 20_000;
    opts.log(`idle: sampling RSS of ${started.length} idle processes for ${windowMs / 1000} s`);
    const peaks = new Map<string, number>();
    const deadline = now() + windowMs;
    while (now() < deadline) {
      for (const s of started) {
        if (s.child.exitCode !== null) throw new Error(`${s.name} exited while idle: ${s.output()}`);
        const rss = await rssOf(s.child.pid!);
        peaks.set(s.name, Math.max(peaks.get(s.name) ?? 0, rss));
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const peak = (name: string) => peaks.get(name)! / MiB;
    const ready = (name: string) => started.find((s) => s.name === name)!.readyMs;
    const bare = { name: "bare node", value: peak("bare node") };
    const note = `peak RSS over ${windowMs / 1000} s of idling after /readyz; production start command: node ${production.args.join(" ")}`;
    return [
      figure({
        benchmark: BENCHMARK,
        name: "idle RSS, compiled API replica (cluster mode, no pools)",
        value: peak("api (compiled)"),
        unit: "MiB",
        baseline: bare,
        target: { on: "value", op: "<", limit: 150 },
        note,
      }),
      figure({ benchmark: BENCHMARK, name: "idle RSS, API through tsx (development)", value: peak("api (tsx)"), unit: "MiB", baseline: bare }),
      figure({
        benchmark: BENCHMARK,
        name: "idle RSS, compiled API with a kubernetes pool (client loaded)",
        value: peak("api (compiled, kubernetes pool)"),
        unit: "MiB",
        baseline: bare,
        note: "the Kubernetes client is loaded only once a pool runs on the kubernetes runtime",
      }),
      figure({
        benchmark: BENCHMARK,
        name: "start-to-ready, compiled API replica",
        value: ready("api (compiled)"),
        unit: "ms",
        baseline: { name: "API through tsx", value: ready("api (tsx)") },
        target: { on: "ratio", op: "<", limit: 0.8 },
        details: { bareNodeMs: Math.round(ready("bare node")), kubernetesReplicaMs: Math.round(ready("api (compiled, kubernetes pool)")) },
        note: "spawn until /readyz answers 200, database migrated; each process started alone",
      }),
    ];
  } finally {
    await Promise.all(started.map((s) => stop(s.child)));
    await kube.stop();
    for (const db of databases) await db.drop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
