import { randomBytes } from "node:crypto";
import { detectLostPods } from "../agents/lost.js";
import type { CoreContext } from "../context.js";
import type { Pool, Prisma } from "../db/index.js";
import type { PodRuntime, RuntimePoolSpec } from "../runtime/types.js";
import { placePending } from "../slots/allocate.js";
import { availableCondition, conditionMaker, podCounts, publishPoolChanged, saveConditions } from "./conditions.js";
import { closeAssignment, publishSlotChange } from "../slots/release.js";
import { expireReservations } from "../tasks/lifecycle.js";
import { decideScaling, livePods, nextLowSince, planManualScale, utilization, type PodSnapshot, type ScalingDecision } from "./decide.js";
import { PoolBusyError, PoolExistsError } from "./errors.js";
import { poolMetrics, recordPoolGauges } from "./metrics.js";
import { getPool, podSnapshots, specOf, type PoolCondition } from "./queries.js";
import { mergeSpec, PoolSpecError, validatePoolSpec, withDefaults, type PoolSpecInput } from "./spec.js";
import { admitPoolSpec, DEFAULT_ADMISSION, describeOverride, type PoolActor, type PoolAdmissionConfig } from "./admission.js";

export interface PoolControllerOptions {
  runtimes: Partial<Record<string, PodRuntime>>;
  /** A Ready pod whose agent is silent this long is Lost. */
  heartbeatTimeoutSeconds: number;
  /** A pod whose agent never registered is Lost after this long. */
  startTimeoutSeconds?: number;
  /** Lost and Terminating pod rows are kept this long for the console, then removed. */
  podHistorySeconds?: number;
  /** Default namespace, allowed namespaces and pod policy of pools (default: namespace `default` only). */
  admission?: PoolAdmissionConfig;
}

export interface ScaleResult {
  requested: number;
  /** Pods added or removed. */
  applied: number;
  /** Pods that could not be removed because a slot was running or reserved. */
  blockedPods: number;
  podCount: number;
}

export interface ReconcileReport {
  pool: string;
  decision: ScalingDecision;
  created: string[];
  deleted: string[];
  returnedToReady: string[];
  lost: string[];
  expired: number;
  errors: string[];
}

const emptyReport = (pool: Pool): ReconcileReport => ({
  pool: pool.name,
  decision: { kind: "none", fromPods: 0, toPods: 0, create: 0, remove: [], utilization: 0, reason: "" },
  created: [],
  deleted: [],
  returnedToReady: [],
  lost: [],
  expired: 0,
  errors: [],
});

/**
 * A reconcile pass that could not do all its work in some pools (a runtime that refused, a
 * pod that could not be listed or deleted). Thrown after every pool had its pass, so that the
 * cron run that ran it is recorded as failed, with the reasons, instead of as a success.
 */
export class ReconcilePassError extends Error {
  override readonly name = "ReconcilePassError";
  constructor(
    readonly failed: { pool: string; errors: string[] }[],
    readonly pools: number,
  ) {
    super(`${failed.length} of ${pools} pool(s) not fully reconciled: ${failed.map((f) => `${f.pool}: ${f.errors.join("; ")}`).join(" | ")}`.slice(0, 2000));
  }
}

/** The reports of a whole pass, or a ReconcilePassError when any pool's pass had errors. */
export function checkReconcilePass(reports: ReconcileReport[]): ReconcileReport[] {
  const failed = reports.filter((r) => r.errors.length > 0).map((r) => ({ pool: r.pool, errors: r.errors }));
  if (failed.length > 0) throw new ReconcilePassError(failed, reports.length);
  return reports;
}

const runtimeSpec = (pool: Pool): RuntimePoolSpec => ({
  name: pool.name,
  namespace: pool.namespace,
  image: pool.image,
  podTemplate: pool.podTemplate,
  slotsPerPod: pool.slotsPerPod,
});

/** The pods and pending demand one pass read. */
interface Observed {
  pods: PodSnapshot[];
  pendingTasks: number;
}

/** A new pod's slots: all idle, indexed from 0. */
const idleSlots = (pool: Pool) => Array.from({ length: pool.slotsPerPod }, (_, index) => ({ index }));

const podName = (pool: string) => `${pool}-${randomBytes(4).toString("hex").slice(0, 5)}`;

/**
 * Keeps every pool at the right number of pods without ever deleting busy work. All writes are
 * level-triggered: a pass recomputes from what it observes and is safe to repeat.
 */
export class PoolController {
  private readonly startTimeoutSeconds: number;
  private readonly podHistorySeconds: number;

  constructor(
    private readonly ctx: CoreContext,
    private readonly opts: PoolControllerOptions,
  ) {
    this.startTimeoutSeconds = opts.startTimeoutSeconds ?? 300;
    this.podHistorySeconds = opts.podHistorySeconds ?? 600;
  }

  get availableRuntimes(): string[] {
    return Object.entries(this.opts.runtimes)
      .filter(([, r]) => r !== undefined)
      .map(([name]) => name);
  }

  private runtimeFor(pool: Pool): PodRuntime {
    const runtime = this.opts.runtimes[pool.runtime];
    if (!runtime) throw new PoolSpecError("runtime", `runtime ${pool.runtime} is not available on this server`);
    return runtime;
  }

  /** Creates a pool; `actor` decides whether a pod policy override is allowed (admin only). */
  async createPool(input: PoolSpecInput, actor?: PoolActor): Promise<Pool> {
    const admission = this.opts.admission ?? DEFAULT_ADMISSION;
    const spec = validatePoolSpec(withDefaults({ ...input, namespace: input.namespace ?? admission.defaultNamespace }), this.availableRuntimes);
    const overridden = admitPoolSpec(spec, { actor, config: admission });
    if (await this.ctx.prisma.pool.findUnique({ where: { name: spec.name }, select: { id: true } })) throw new PoolExistsError(spec.name);
    try {
      const pool = await this.ctx.prisma.pool.create({ data: { ...spec, podTemplate: (spec.podTemplate ?? undefined) as Prisma.InputJsonValue | undefined } });
      if (overridden) await this.record(pool, { kind: "policy_override", fromPods: 0, toPods: 0, utilization: 0, reason: describeOverride(overridden) });
      await publishPoolChanged(this.ctx, pool);
      return pool;
    } catch (error) {
      if ((error as { code?: string }).code === "P2002") throw new PoolExistsError(spec.name);
      throw error;
    }
  }

  /** Updates a pool's spec; the controller acts on it at its next pass. */
  async updatePool(name: string, update: Partial<PoolSpecInput>, actor?: PoolActor): Promise<Pool> {
    const pool = await getPool(this.ctx, name);
    const previous = specOf(pool);
    const spec = validatePoolSpec(mergeSpec(previous, update), this.availableRuntimes);
    const overridden = admitPoolSpec(spec, { actor, previous, config: this.opts.admission ?? DEFAULT_ADMISSION });
    const { name: _name, ...data } = spec;
    const updated = await this.ctx.prisma.pool.update({
      where: { id: pool.id },
      data: { ...data, podTemplate: (data.podTemplate ?? undefined) as Prisma.InputJsonValue | undefined },
    });
    if (overridden) {
      const pods = livePods(await podSnapshots(this.ctx, pool.id)).length;
      await this.record(updated, { kind: "policy_override", fromPods: pods, toPods: pods, utilization: 0, reason: describeOverride(overridden) });
    }
    await publishPoolChanged(this.ctx, updated);
    return updated;
  }

  /** Deletes a pool and its pods; refused while any slot is running or reserved. */
  async deletePool(name: string): Promise<void> {
    const pool = await getPool(this.ctx, name);
    const runtime = this.opts.runtimes[pool.runtime];
    const pods = await this.ctx.prisma.pod.findMany({ where: { poolId: pool.id }, select: { name: true } });
    await this.ctx.prisma.$transaction(async (tx) => {
      // Every slot of the pool is locked, idle ones too: an allocation racing the delete either
      // committed first (and is counted here) or waits and then finds its slot gone.
      const slots = await tx.$queryRawUnsafe<{ state: string }[]>(
        `SELECT s.state::text AS state FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p."poolId" = $1::uuid FOR UPDATE OF s`,
        pool.id,
      );
      const busy = slots.filter((s) => s.state !== "idle").length;
      if (busy > 0) throw new PoolBusyError(name, busy);
      await tx.task.updateMany({ where: { poolId: pool.id, status: "pending" }, data: { status: "cancelled", error: "pool deleted" } });
      await tx.pool.delete({ where: { id: pool.id } });
    });
    if (runtime) for (const p of pods) await runtime.delete(runtimeSpec(pool), p.name).catch(() => {});
    // The agent token Secret goes with the pool (the tokens themselves went with its row).
    await runtime?.releasePool?.(runtimeSpec(pool)).catch(() => {});
    await this.ctx.events.publish("pool", { name, podCount: 0, utilization: 0, deleted: true, at: this.ctx.now().toISOString() });
  }

  /** Manual scale through the same safety as the autoscaler: busy pods are never removed. */
  async scalePool(name: string, pods: number): Promise<ScaleResult> {
    const pool = await getPool(this.ctx, name);
    if (!Number.isInteger(pods) || pods < pool.minPods || pods > pool.maxPods) {
      throw new PoolSpecError("pods", `pods must be between minPods (${pool.minPods}) and maxPods (${pool.maxPods}); change the limits first`);
    }
    const snapshot = await podSnapshots(this.ctx, pool.id);
    const plan = planManualScale(snapshot, pods, this.ctx.now());
    const created = await this.createPods(pool, plan.create);
    let removed = 0;
    let blocked = plan.blockedPods;
    for (const pod of plan.remove) {
      if ((await this.drainAndDelete(pool, pod)) === "deleted") removed++;
      else blocked++;
    }
    const podCount = livePods(await podSnapshots(this.ctx, pool.id)).length;
    await this.record(pool, {
      kind: "manual_scale",
      fromPods: livePods(snapshot).length,
      toPods: podCount,
      utilization: utilization(livePods(snapshot)),
      reason: `manual scale to ${pods}: ${created.length} added, ${removed} removed, ${blocked} busy pod(s) kept`,
    });
    await publishPoolChanged(this.ctx, pool);
    return { requested: pods, applied: created.length + removed, blockedPods: blocked, podCount };
  }

  /** One reconcile pass over every pool. */
  async reconcileAll(): Promise<ReconcileReport[]> {
    const pools = await this.ctx.prisma.pool.findMany({ orderBy: { name: "asc" } });
    const reports: ReconcileReport[] = [];
    for (const pool of pools) {
      // One pool's failure must not keep the pools after it from their pass.
      reports.push(await this.reconcilePool(pool).catch((error: unknown) => ({ ...emptyReport(pool), errors: [(error as Error)?.message ?? String(error)] })));
    }
    return reports;
  }

  /**
   * The pass, in order: observe runtime pods, Lost pods, sync tasks into slots, expire
   * reservations, ensure minPods and autoscale, conditions and metrics.
   */
  async reconcilePool(pool: Pool): Promise<ReconcileReport> {
    const started = process.hrtime.bigint();
    const report = emptyReport(pool);
    await this.observeRuntime(pool, report);
    const lost = await detectLostPods(this.ctx, {
      poolId: pool.id,
      timeoutSeconds: this.opts.heartbeatTimeoutSeconds,
      startTimeoutSeconds: this.startTimeoutSeconds,
    });
    report.lost = lost.map((l) => l.pod);
    await this.syncTasksIntoSlots(pool);
    const expired = await expireReservations(this.ctx, pool.id);
    report.expired = expired.length;
    if (expired.length > 0) {
      const live = livePods(await podSnapshots(this.ctx, pool.id)).length;
      await this.record(pool, { kind: "reservation_expired", fromPods: live, toPods: live, utilization: 0, reason: `${expired.length} reservation(s) expired` });
    }
    await placePending(this.ctx, pool);
    const unchanged = await this.autoscale(pool, report);
    await this.updateConditions(pool, report, unchanged);
    poolMetrics.reconcileSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return report;
  }

  /** Returns what it observed when it changed no pod, so the conditions step need not read it again. */
  private async autoscale(pool: Pool, report: ReconcileReport): Promise<Observed | null> {
    const fresh = await this.ctx.prisma.pool.findUniqueOrThrow({ where: { id: pool.id } });
    const pods = await podSnapshots(this.ctx, pool.id);
    const pendingTasks = await this.ctx.prisma.task.count({ where: { poolId: pool.id, status: "pending" } });
    const now = this.ctx.now();
    const snapshot = {
      spec: specOf(fresh),
      pods,
      pendingTasks,
      lastScaleUpAt: fresh.lastScaleUpAt,
      lastScaleDownAt: fresh.lastScaleDownAt,
      lowSince: fresh.lowUtilizationSince,
    };
    const lowSince = nextLowSince(snapshot, now);
    const decision = decideScaling({ ...snapshot, lowSince }, now);
    report.decision = decision;
    if (lowSince?.getTime() !== fresh.lowUtilizationSince?.getTime()) {
      await this.ctx.prisma.pool.update({ where: { id: pool.id }, data: { lowUtilizationSince: lowSince } });
    }
    const observed: Observed = { pods, pendingTasks };
    if (decision.kind === "none") return observed;
    if (decision.kind === "scale_down_blocked") {
      await this.record(fresh, decision, { dedupeSeconds: Math.max(fresh.scaleDownCooldownSeconds, 60) });
      poolMetrics.scaleDownBlocked.inc({ pool: pool.name, reason: decision.reason.includes("running or reserved") ? "busy" : "grace" });
      return observed;
    }
    report.created = await this.createPods(fresh, decision.create);
    for (const name of decision.remove) {
      if ((await this.drainAndDelete(fresh, name)) === "deleted") report.deleted.push(name);
      else report.returnedToReady.push(name);
    }
    const applied = report.created.length + report.deleted.length;
    // A drain that found work returned its pod to Ready, and slots changed meanwhile: read afresh.
    if (applied === 0) return decision.remove.length > 0 ? null : observed;
    await this.ctx.prisma.pool.update({
      where: { id: pool.id },
      data: decision.create > 0 ? { lastScaleUpAt: now } : { lastScaleDownAt: now, lowUtilizationSince: null },
    });
    await this.record(fresh, { ...decision, toPods: decision.fromPods + report.created.length - report.deleted.length });
    poolMetrics.scalings.inc({ pool: pool.name, kind: decision.kind }, applied);
    await publishPoolChanged(this.ctx, fresh);
    return null;
  }

  /** Adds pods: the row first (Pending, with idle slots), then the runtime pod (Starting). */
  private async createPods(pool: Pool, count: number): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = podName(pool.name);
      await this.ctx.prisma.pod.create({
        data: {
          name,
          poolId: pool.id,
          phase: "Pending",
          createdAt: this.ctx.now(),
          phaseChangedAt: this.ctx.now(),
          slots: { create: idleSlots(pool) },
        },
      });
      names.push(name);
      await this.startRuntimePod(pool, name);
    }
    return names;
  }

  private async startRuntimePod(pool: Pool, name: string): Promise<void> {
    try {
      await this.runtimeFor(pool).create(runtimeSpec(pool), name);
      await this.ctx.prisma.pod.updateMany({ where: { name, phase: "Pending" }, data: { phase: "Starting", phaseChangedAt: this.ctx.now() } });
    } catch (error) {
      // Stays Pending: the next pass retries the create.
      poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "create" });
      throw Object.assign(new Error(`could not start pod ${name}: ${(error as Error).message}`), { cause: error });
    }
  }

  /**
   * Drain-then-delete. The pod is marked Draining (allocation skips it), then, under row locks
   * on its slots, deleted only if every slot is still idle; otherwise it goes back to Ready.
   */
  async drainAndDelete(pool: Pool, name: string): Promise<"deleted" | "busy"> {
    const drained = await this.ctx.prisma.pod.updateMany({
      where: { name, poolId: pool.id, phase: { in: ["Ready", "Pending", "Starting"] } },
      data: { phase: "Draining", phaseChangedAt: this.ctx.now() },
    });
    if (drained.count === 0) return "busy";
    const outcome = await this.ctx.prisma.$transaction(async (tx) => {
      const slots = await tx.$queryRawUnsafe<{ index: number; state: string }[]>(
        `SELECT s.index, s.state::text AS state FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p.name = $1 ORDER BY s.index FOR UPDATE OF s`,
        name,
      );
      if (slots.some((s) => s.state !== "idle")) {
        await tx.pod.updateMany({ where: { name, phase: "Draining" }, data: { phase: "Ready", phaseChangedAt: this.ctx.now() } });
        return { deleted: false, slots: slots.length };
      }
      // Removing the slot rows in the same transaction means an allocation that saw this pod
      // as Ready before the drain finds its row gone once our locks are released.
      await tx.slot.deleteMany({ where: { pod: { name } } });
      await tx.pod.update({ where: { name }, data: { phase: "Terminating", phaseChangedAt: this.ctx.now() } });
      return { deleted: true, slots: slots.length };
    });
    if (!outcome.deleted) {
      poolMetrics.drainsReverted.inc({ pool: pool.name });
      return "busy";
    }
    for (let index = 0; index < outcome.slots; index++) await publishSlotChange(this.ctx, { pool: pool.name, pod: name, index }, "idle", null);
    try {
      await this.runtimeFor(pool).delete(runtimeSpec(pool), name);
      await this.ctx.prisma.pod.deleteMany({ where: { name, phase: "Terminating" } });
    } catch {
      // Terminating stays: the next pass deletes it from the runtime again.
      poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "delete" });
    }
    return "deleted";
  }

  /** Step 1: adopt labelled pods we do not know, forget vanished ones, retry unfinished work. */
  private async observeRuntime(pool: Pool, report: ReconcileReport): Promise<void> {
    const runtime = this.opts.runtimes[pool.runtime];
    if (!runtime) {
      report.errors.push(`runtime ${pool.runtime} is not available on this server`);
      return;
    }
    let observed;
    const listedAt = this.ctx.now().getTime();
    try {
      observed = await runtime.list(runtimeSpec(pool));
    } catch (error) {
      report.errors.push(`could not list pods: ${(error as Error).message}`);
      poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "list" });
      return;
    }
    const known = await this.ctx.prisma.pod.findMany({ where: { poolId: pool.id } });
    const running = new Map(observed.map((p) => [p.name, p]));
    const now = this.ctx.now();
    for (const pod of known) {
      const seen = running.get(pod.name);
      if (pod.phase === "Pending" && !seen) {
        await this.startRuntimePod(pool, pod.name).catch((e: Error) => report.errors.push(e.message));
      } else if (pod.phase === "Terminating") {
        await runtime
          .delete(runtimeSpec(pool), pod.name)
          .then(() => this.ctx.prisma.pod.deleteMany({ where: { id: pod.id, phase: "Terminating" } }))
          .catch((e: Error) => report.errors.push(`could not delete pod ${pod.name}: ${e.message}`));
      } else if (pod.phase === "Lost") {
        if (seen) await runtime.delete(runtimeSpec(pool), pod.name).catch(() => {});
        if (now.getTime() - pod.phaseChangedAt.getTime() > this.podHistorySeconds * 1000) await this.ctx.prisma.pod.deleteMany({ where: { id: pod.id, phase: "Lost" } });
      } else if ((!seen && pod.phaseChangedAt.getTime() < listedAt - 30_000) || seen?.phase === "Failed" || seen?.phase === "Succeeded") {
        // The pod is gone or its container ended: whatever ran there is lost.
        await this.ctx.prisma.pod.updateMany({ where: { id: pod.id }, data: { lastHeartbeatAt: new Date(0) } });
        if (seen) await runtime.delete(runtimeSpec(pool), pod.name).catch(() => {});
      }
    }
    const knownNames = new Set(known.map((p) => p.name));
    for (const pod of observed) {
      if (knownNames.has(pod.name) || pod.phase === "Failed" || pod.phase === "Succeeded") continue;
      await this.ctx.prisma.pod.create({
        data: {
          name: pod.name,
          poolId: pool.id,
          phase: "Starting",
          createdAt: pod.createdAt,
          slots: { create: idleSlots(pool) },
        },
      });
    }
    if (runtime.setDeletionCost) {
      const busy = await this.ctx.prisma.pod.findMany({
        where: { poolId: pool.id, phase: { in: ["Ready", "Draining"] } },
        select: { name: true, _count: { select: { slots: { where: { state: { not: "idle" } } } } } },
      });
      for (const p of busy) await runtime.setDeletionCost(runtimeSpec(pool), p.name, p._count.slots).catch(() => {});
    }
  }

  /** Step 3: repair any slot whose state disagrees with its task (level-triggered safety net). */
  private async syncTasksIntoSlots(pool: Pool): Promise<void> {
    const freed = await this.ctx.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ pod: string; index: number; taskId: string }[]>(
        `UPDATE "Slot" s SET state = 'idle', "taskId" = NULL, "reservedUntil" = NULL, "updatedAt" = now()
         FROM "Task" t, "Pod" p
         WHERE s."taskId" = t.id AND p.id = s."podId" AND p."poolId" = $1::uuid
           AND t.status IN ('succeeded', 'failed', 'cancelled', 'expired', 'pending')
         RETURNING p.name AS pod, s.index, t.id AS "taskId"`,
        pool.id,
      );
      for (const r of rows) await closeAssignment(tx, r.taskId, "repaired: task no longer held the slot");
      return rows;
    });
    for (const s of freed) await publishSlotChange(this.ctx, { pool: pool.name, pod: s.pod, index: s.index }, "idle", null);
    const reserved = await this.ctx.prisma.$queryRawUnsafe<{ pod: string; index: number; taskId: string }[]>(
      `UPDATE "Slot" s SET state = 'reserved', "reservedUntil" = COALESCE(t."planReadyAt", now()) + make_interval(secs => $2), "updatedAt" = now()
       FROM "Task" t, "Pod" p
       WHERE s."taskId" = t.id AND p.id = s."podId" AND p."poolId" = $1::uuid AND t.status = 'apply_pending' AND s.state = 'running'
       RETURNING p.name AS pod, s.index, t.id AS "taskId"`,
      pool.id,
      pool.reservationTtlSeconds,
    );
    for (const s of reserved) await publishSlotChange(this.ctx, { pool: pool.name, pod: s.pod, index: s.index }, "reserved", s.taskId);
    // Tasks that believe they run but hold no slot (their pod vanished mid-transition).
    await this.ctx.prisma.$executeRawUnsafe(
      `UPDATE "Task" t SET status = 'failed', "finishedAt" = now(), error = 'the task lost its slot'
       WHERE t."poolId" = $1::uuid AND t.status IN ('running', 'apply_pending', 'applying')
         AND NOT EXISTS (SELECT 1 FROM "Slot" s WHERE s."taskId" = t.id)`,
      pool.id,
    );
  }

  private async updateConditions(pool: Pool, report: ReconcileReport, observed: Observed | null): Promise<void> {
    const fresh = await this.ctx.prisma.pool.findUnique({ where: { id: pool.id } });
    if (!fresh) return;
    const pods = observed?.pods ?? (await podSnapshots(this.ctx, pool.id));
    const live = livePods(pods);
    const counts = podCounts(pods);
    const pending = observed?.pendingTasks ?? (await this.ctx.prisma.task.count({ where: { poolId: pool.id, status: "pending" } }));
    const recentLost = await this.ctx.prisma.scalingEvent.count({
      where: { poolId: pool.id, kind: "pod_lost", at: { gt: new Date(this.ctx.now().getTime() - 10 * 60_000) } },
    });
    const cond = conditionMaker((fresh.conditions as unknown as PoolCondition[]) ?? [], this.ctx.now());
    const conditions = [
      availableCondition(cond, fresh, counts, pending),
      cond(
        "Progressing",
        counts.starting > 0 || report.created.length > 0 || report.deleted.length > 0,
        counts.starting > 0 ? "PodsStarting" : "Stable",
        counts.starting > 0 ? `${counts.starting} pod(s) starting` : report.decision.reason,
      ),
      cond(
        "Degraded",
        report.errors.length > 0 || recentLost > 0,
        report.errors.length > 0 ? "RuntimeError" : recentLost > 0 ? "PodsLost" : "Healthy",
        report.errors[0] ?? (recentLost > 0 ? `${recentLost} pod(s) lost in the last 10 minutes` : "no problems seen"),
      ),
    ];
    await saveConditions(this.ctx, fresh, conditions);
    recordPoolGauges(pool.name, pods, utilization(live));
    await publishPoolChanged(this.ctx, fresh, pods);
  }

  private async record(
    pool: Pool,
    e: { kind: string; fromPods: number; toPods: number; utilization: number; reason: string },
    opts: { dedupeSeconds?: number } = {},
  ): Promise<void> {
    if (opts.dedupeSeconds) {
      const last = await this.ctx.prisma.scalingEvent.findFirst({ where: { poolId: pool.id }, orderBy: { at: "desc" } });
      if (last && last.kind === e.kind && last.reason === e.reason && this.ctx.now().getTime() - last.at.getTime() < opts.dedupeSeconds * 1000) return;
    }
    await this.ctx.prisma.scalingEvent.create({
      data: { poolId: pool.id, kind: e.kind, fromPods: e.fromPods, toPods: e.toPods, utilization: e.utilization, reason: e.reason, at: this.ctx.now() },
    });
  }
}
