import { Counter, Gauge, Histogram, metric, registry } from "../metrics/index.js";
import { slotMetrics } from "../slots/metrics.js";
import { countSlots, runningUtilization, type PodSnapshot } from "./decide.js";

export const poolMetrics = {
  scalings: metric(
    "berth_pool_scalings_total",
    () => new Counter({ name: "berth_pool_scalings_total", help: "Pods added or removed by the autoscaler", labelNames: ["pool", "kind"], registers: [registry] }),
  ),
  scaleDownBlocked: metric(
    "berth_pool_scale_down_blocked_total",
    () =>
      new Counter({
        name: "berth_pool_scale_down_blocked_total",
        help: "Scale-downs that found no pod to remove, by reason (busy, grace)",
        labelNames: ["pool", "reason"],
        registers: [registry],
      }),
  ),
  drainsReverted: metric(
    "berth_pool_drains_reverted_total",
    () => new Counter({ name: "berth_pool_drains_reverted_total", help: "Drained pods returned to Ready because a slot became busy", labelNames: ["pool"], registers: [registry] }),
  ),
  triggeredPasses: metric(
    "berth_pool_triggered_passes_total",
    () => new Counter({ name: "berth_pool_triggered_passes_total", help: "Passes run for a pool at once: its watch saw its pods change, or work found no free slot", labelNames: ["pool"], registers: [registry] }),
  ),
  runtimeErrors: metric(
    "berth_runtime_errors_total",
    () => new Counter({ name: "berth_runtime_errors_total", help: "Pod runtime calls that failed", labelNames: ["pool", "operation"], registers: [registry] }),
  ),
  utilization: metric(
    "berth_pool_utilization",
    () => new Gauge({ name: "berth_pool_utilization", help: "(running + reserved) / slots on Ready pods", labelNames: ["pool"], registers: [registry] }),
  ),
  runningUtilization: metric(
    "berth_pool_running_utilization",
    () =>
      new Gauge({
        name: "berth_pool_running_utilization",
        help: "Running slots / slots not held by a reservation, on Ready pods: what the autoscaler scales on",
        labelNames: ["pool"],
        registers: [registry],
      }),
  ),
  reconcileSeconds: metric(
    "berth_reconcile_pool_seconds",
    () => new Histogram({ name: "berth_reconcile_pool_seconds", help: "Time of one reconcile pass over one pool", registers: [registry] }),
  ),
};

const PHASES = ["Pending", "Starting", "Ready", "Draining", "Terminating", "Lost"] as const;

/** Pools this process has set gauges for, so that a deleted pool's label sets can be removed. */
const gaugedPools = new Set<string>();

export function recordPoolGauges(pool: string, pods: PodSnapshot[], utilization: number): void {
  gaugedPools.add(pool);
  for (const phase of PHASES) slotMetrics.pods.set({ pool, phase }, pods.filter((p) => p.phase === phase).length);
  const slots = countSlots(pods);
  slotMetrics.slots.set({ pool, state: "idle" }, slots.idle);
  slotMetrics.slots.set({ pool, state: "running" }, slots.running);
  slotMetrics.slots.set({ pool, state: "reserved" }, slots.reserved);
  poolMetrics.utilization.set({ pool }, utilization);
  poolMetrics.runningUtilization.set({ pool }, runningUtilization(pods));
}

/** Removes a pool's gauges: a deleted pool must not go on reporting its last pods and slots. */
export function forgetPoolGauges(pool: string): void {
  gaugedPools.delete(pool);
  for (const phase of PHASES) slotMetrics.pods.remove({ pool, phase });
  for (const state of ["idle", "running", "reserved"]) slotMetrics.slots.remove({ pool, state });
  poolMetrics.utilization.remove({ pool });
}

/** Level-triggered: forgets the gauges of every pool not in `existing` (deleted through another replica too). */
export function forgetGaugesOfPoolsOtherThan(existing: Iterable<string>): void {
  const keep = new Set(existing);
  for (const pool of [...gaugedPools]) if (!keep.has(pool)) forgetPoolGauges(pool);
}
