// How often a reconcile pass lists a pool's pods at the Kubernetes API: a pool of 1,000 pods in
// steady state, passes every second (the default is every 5 s), against the wire-format
// Kubernetes double. Without the watch every pass lists; with it (the informer) the pods are
// listed once and then followed by the watch. Reported per 60 s of idling at the default pace.
import type { CoreContext } from "@berth/core/context";
import { createMemoryEventBus } from "@berth/core/events";
import { PoolController } from "@berth/core/pools";
import { createKubernetesRuntime } from "../packages/core/src/runtime/kubernetes.js";
import { FakeKubeApi } from "../packages/core/test/runtime/fake-kube-api.js";
import { FakeTokenIssuer } from "../packages/core/test/runtime/fake-token-issuer.js";
import { figure, type BenchOptions, type BenchResult } from "./harness.js";
import { freshDatabase } from "./support/database.js";
import { seedPool } from "./support/seed.js";

const PODS = 1000;
/** The default reconcile schedule: every 5 s, so 12 passes a minute. */
const PASSES_PER_MINUTE = 12;

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const passes = opts.quick ? 6 : PASSES_PER_MINUTE;
  const database = await freshDatabase(opts.postgresUrl, 4);
  const api = await new FakeKubeApi().start();
  const runtime = createKubernetesRuntime({ apiUrl: "http://berth-api.berth.svc:4000", kubeConfig: api.kubeConfig(), agentTokens: new FakeTokenIssuer() });
  try {
    const ctx: CoreContext = { prisma: database.db.prisma, events: createMemoryEventBus(), now: () => new Date(), podFreshSeconds: 3600 };
    const seeded = await seedPool(ctx.prisma, { name: "watched", pods: PODS, pool: { runtime: "kubernetes", image: "berth/agent:bench", autoscale: false, minPods: 0, maxPods: PODS * 2 } });
    await ctx.prisma.pod.updateMany({ data: { runtimeScope: runtime.scope } });
    for (const name of seeded.podNames) api.seed("default", name, { "berth.dev/pool": "watched", "berth.dev/managed": "true" });
    const listsOf = () => api.requestsMatching("GET", "/api/v1/namespaces/default/pods").filter((r) => !r.query.has("watch")).length;

    const count = async (watch: boolean): Promise<number> => {
      const controller = new PoolController(ctx, { runtimes: { kubernetes: runtime }, heartbeatTimeoutSeconds: 3600, startedAt: new Date(0), watch });
      try {
        // One pass to start the informer and let it take its first list; then the idle minute.
        await controller.reconcileAll();
        await new Promise((r) => setTimeout(r, 1000));
        const before = listsOf();
        for (let i = 0; i < passes; i++) {
          await ctx.prisma.pod.updateMany({ data: { lastHeartbeatAt: new Date() } });
          await controller.reconcileAll();
        }
        return listsOf() - before;
      } finally {
        await controller.close();
      }
    };
    const listing = await count(false);
    const watching = await count(true);
    opts.log(`watch-lists: ${passes} passes over ${PODS} pods: ${listing} LIST calls without the watch, ${watching} with it`);
    const perMinute = (n: number) => (n * PASSES_PER_MINUTE) / passes;
    return [
      figure({
        benchmark: "watch-lists",
        name: `LIST calls per pool per 60 s idle, ${PODS} pods, with the watch`,
        value: perMinute(watching),
        unit: "calls",
        baseline: { name: "without the watch (a LIST per pass)", value: perMinute(listing) },
        target: { on: "value", op: "<=", limit: 1 },
        note: "the informer lists once, then follows the watch; it lists again only after a watch error or every 10 minutes",
      }),
    ];
  } finally {
    await runtime.close();
    await api.stop();
    await database.drop();
  }
}
