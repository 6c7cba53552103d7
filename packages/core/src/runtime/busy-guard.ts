import type { CoreContext } from "../context.js";
import { Counter, metric, registry } from "../metrics/index.js";
import type { PodRuntime } from "./types.js";

/**
 * Must stay zero: a pod deleted while the database says one of its slots is running or reserved
 * (or a task still runs, waits for approval or applies on it). Counted, and the delete refused,
 * at the runtime's delete call, whatever path asked for it.
 */
export const busyPodDeletions = metric(
  "berth_busy_pod_deletions_total",
  () =>
    new Counter({
      name: "berth_busy_pod_deletions_total",
      help: "Pod deletions refused because the database says the pod still holds work (must stay 0)",
      labelNames: ["pool"],
      registers: [registry],
    }),
);

/** A delete of a pod that still holds work reached the runtime; it was refused. */
export class BusyPodDeletionError extends Error {
  constructor(
    readonly pod: string,
    readonly busy: number,
  ) {
    super(`refused to delete pod ${pod}: the database says ${busy} task(s) still hold it`);
    this.name = "BusyPodDeletionError";
  }
}

/** The runtime, with every delete checked against the database first. */
export function guardBusyPodDeletion(runtime: PodRuntime, ctx: Pick<CoreContext, "prisma">): PodRuntime {
  return new Proxy(runtime, {
    get(target, property, receiver) {
      if (property !== "delete") return Reflect.get(target, property, receiver);
      return async (pool: Parameters<PodRuntime["delete"]>[0], podName: string) => {
        const [row] = await ctx.prisma.$queryRawUnsafe<{ busy: bigint | number }[]>(
          `SELECT (SELECT count(*) FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p.name = $1 AND s.state <> 'idle')
                + (SELECT count(*) FROM "Task" t WHERE t."podName" = $1 AND t.status IN ('running', 'apply_pending', 'applying')) AS busy`,
          podName,
        );
        const busy = Number(row?.busy ?? 0);
        if (busy > 0) {
          busyPodDeletions.inc({ pool: pool.name });
          throw new BusyPodDeletionError(podName, busy);
        }
        return target.delete(pool, podName);
      };
    },
  });
}
