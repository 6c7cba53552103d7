// Time to capacity: a burst of 30 tasks on a pool of 3-slot pods with the local runtime (real
// agent processes, @berth/agent), from the first submit to the last task its agent confirmed running.
// Once from zero pods (the submit triggers the pool's pass, which starts all 10 pods at once),
// then the same burst with the 10 pods already up, as the baseline of the same run.
//   BENCH_API_PORT  port of the API the agents call (default: a free one)
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@berth/core/cluster";
import { submitTask } from "@berth/core/tasks";
import { startServer, type StartedServer } from "../apps/api/src/server.js";
import { figure, now, waitFor, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";

const BENCHMARK = "time-to-capacity";
const BURST = 30;
const SLOTS_PER_POD = 3;
const PODS = BURST / SLOTS_PER_POD;
/** Each task runs this long, so that the whole burst runs at once. */
const TASK_MS = 20_000;
const PHASE_TIMEOUT_MS = 120_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Submits the burst and waits until every task's agent confirmed it runs; milliseconds from the first submit. */
async function burst(server: StartedServer, pool: string): Promise<{ ms: number; pods: number }> {
  const { core } = server.services;
  const startedAt = Date.now();
  const started = now();
  // Submitted at once, as a CI system fans out a pipeline's jobs.
  const ids = (await Promise.all(Array.from({ length: BURST }, () => submitTask(core, { pool, type: "plan", payload: { durationMs: TASK_MS } })))).map((t) => t.id);
  await waitFor(`${BURST} tasks to start`, async () => (await core.prisma.task.count({ where: { id: { in: ids }, acknowledgedAt: { not: null } } })) === BURST, PHASE_TIMEOUT_MS, 20);
  const tasks = await core.prisma.task.findMany({ where: { id: { in: ids } }, select: { acknowledgedAt: true } });
  const last = Math.max(...tasks.map((t) => t.acknowledgedAt!.getTime()));
  const pods = await core.prisma.pod.count({ where: { pool: { name: pool }, phase: { notIn: ["Lost", "Terminating"] } } });
  // Wall clock of the database rows, bounded below by what this process saw.
  return { ms: Math.max(last - startedAt, 0) || now() - started, pods };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const database = await freshDatabase(opts.postgresUrl, 2);
  await database.db.close();
  const dataDir = await mkdtemp(join(tmpdir(), "berth-bench-ttc-"));
  const port = Number(process.env.BENCH_API_PORT ?? (await freePort()));
  const config = loadConfig({
    API_HOST: "127.0.0.1",
    API_PORT: String(port),
    LOG_LEVEL: "error",
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: "6",
    BERTH_DATA_DIR: dataDir,
    BERTH_DEMO_POOL: "false",
    POD_RUNTIME: "local",
    STORAGE_TYPE: "local",
  });
  const server = await startServer(config, { port, background: true });
  try {
    await server.services.pools.createPool({
      name: "ttc",
      minPods: 0,
      maxPods: PODS,
      slotsPerPod: SLOTS_PER_POD,
      // Keep the pods through the run: the second burst measures pods already up.
      newPodGraceSeconds: 3600,
      stabilizationWindowSeconds: 3600,
      scaleDownCooldownSeconds: 3600,
    });
    opts.log(`${BENCHMARK}: burst of ${BURST} from zero pods`);
    const cold = await burst(server, "ttc");
    opts.log(`${BENCHMARK}: ${Math.round(cold.ms)} ms to capacity on ${cold.pods} pods; waiting for the burst to finish`);
    await waitFor("the first burst to finish", async () => (await server.services.core.prisma.task.count({ where: { status: { not: "succeeded" } } })) === 0, PHASE_TIMEOUT_MS, 200);
    const ready = await server.services.core.prisma.pod.count({ where: { phase: "Ready" } });
    opts.log(`${BENCHMARK}: burst of ${BURST} on ${ready} Ready pods`);
    const warm = await burst(server, "ttc");
    const scaleUps = await server.services.core.prisma.scalingEvent.findMany({ where: { kind: "scale_up" }, orderBy: { at: "asc" }, select: { fromPods: true, toPods: true } });
    // Local pods outlive the API: the pool's delete (refused while a slot is busy) removes them.
    opts.log(`${BENCHMARK}: ${Math.round(warm.ms)} ms with the pods up; removing the pool's pods`);
    await waitFor("the second burst to finish", async () => (await server.services.core.prisma.task.count({ where: { status: { not: "succeeded" } } })) === 0, PHASE_TIMEOUT_MS, 200);
    await server.services.pools.deletePool("ttc");
    return [
      figure({
        benchmark: BENCHMARK,
        name: `burst of ${BURST} from zero pods: submit to last task started (local runtime)`,
        value: cold.ms,
        unit: "ms",
        baseline: { name: `same burst with ${ready} pods already up`, value: warm.ms },
        note: "The submit kicks the pool's pass at once; a pass starts every pod the queue it sees needs (details.scaleUps: the passes that added pods).",
        details: { pods: cold.pods, readyPodsForWarmBurst: ready, scaleUps, taskMs: TASK_MS },
      }),
    ];
  } finally {
    // Whatever pods are left (a failed run) are stopped with the pool.
    await server.services.pools.deletePool("ttc").catch(() => {});
    await server.close();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await database.drop();
  }
}
