import { randomBytes } from "node:crypto";
import { detectLostPods } from "../agents/lost.js";
import type { CoreContext } from "../context.js";
import { Prisma, retryOnConflict, type Pool } from "../db/index.js";
import { createMemoryLockService, type LockService } from "../locks/index.js";
import { startInformer, type PodInformer } from "../runtime/informer.js";
import type { PodRuntime, RuntimePod, RuntimePoolSpec } from "../runtime/types.js";
import { placePending } from "../slots/allocate.js";
import { closeAssignment, publishSlotChange } from "../slots/release.js";
import { unblockKeys } from "../tasks/concurrency.js";
import { enforceDeadlines, expireReservations } from "../tasks/lifecycle.js";
import { availableCondition, conditionMaker, podCounts, publishPoolChanged, saveConditions } from "./conditions.js";
import { countSlots, decideScaling, livePods, nextLowSince, planManualScale, utilization, type PodSnapshot, type ScalingDecision } from "./decide.js";
import { PodBusyError, PodPhaseError, PoolBusyError, PoolExistsError } from "./errors.js";
import { PodNotFoundError } from "../agents/errors.js";
import { isResync } from "../events/index.js";
import { PoolGuards, type PoolGuard } from "./guard.js";
import { forgetGaugesOfPoolsOtherThan, forgetPoolGauges, poolMetrics, recordPoolGauges } from "./metrics.js";
import { pendingByReason, plansCapped, queueCounts, recordPendingGauge, type PendingByReason } from "./queue.js";
import { planRuntime, toPodSnapshots, type PodRow, type PoolView } from "./observe.js";
import { getPool, podSnapshots, specOf, type PoolCondition } from "./queries.js";
import { mergeSpec, PoolSpecError, validatePoolSpec, withDefaults, type PoolSpec, type PoolSpecInput } from "./spec.js";
import { selectPodsToRecycle } from "./recycle.js";
import { describeWindow, limitsAt, MAX_CAPACITY_WINDOWS, type ActiveCapacityWindow } from "./windows.js";
import { DEFAULT_SAMPLE_INTERVAL_SECONDS, DEFAULT_SAMPLE_RETENTION_SECONDS, pruneSamples, recordSample, sampleOf } from "./utilisation.js";
import { admitPoolSpec, DEFAULT_ADMISSION, describeOverride, type PoolActor, type PoolAdmissionConfig } from "./admission.js";

export interface PoolControllerOptions {
  runtimes: Partial<Record<string, PodRuntime>>;
  /** A Ready pod whose agent is silent this long is Lost. */
  heartbeatTimeoutSeconds: number;
  /** A pod whose agent never registered is Lost after this long. */
  startTimeoutSeconds?: number;
  /** Lost pod rows are kept this long for the console, then removed. */
  podHistorySeconds?: number;
  /** A Terminating pod still listed by its runtime this long is forgotten. Default 300 s. */
  terminatingTimeoutSeconds?: number;
  /** The per-pool guard's locks: Redis in cluster mode. Default: in this process's memory. */
  locks?: LockService;
  /**
   * When this replica started. For its first heartbeatTimeoutSeconds no pod is declared Lost by
   * heartbeat: after every replica was down, agents need that long to reach the API again.
   * Default: when the controller was made.
   */
  startedAt?: Date;
  /** How long a manual scale or delete waits for a pass acting on the pool. Default 10 s. */
  guardWaitMs?: number;
  /**
   * Observe each pool's runtime pods through a watch (an informer) instead of listing them in
   * every pass, and run a pool's pass within a moment of a change of its pods (one deleted,
   * ended, started) instead of waiting for the next scheduled pass. Default false.
   */
  watch?: boolean;
  /**
   * Run a pool's pass at once when work arrives that found no free slot (a `poolDemand` event,
   * published by submitTask on any replica), instead of at the next scheduled pass. The pool's
   * guard keeps it to one pass at a time across replicas. Default false.
   */
  demand?: boolean;
  /** Default namespace, allowed namespaces and pod policy of pools (default: namespace `default` only). */
  admission?: PoolAdmissionConfig;
  /** A pool's utilisation is sampled at most this often, by the pass holding its guard. Default 15 s. */
  sampleIntervalSeconds?: number;
  /** Utilisation samples are kept this long, then pruned by housekeeping. Default 7 days. */
  sampleRetentionSeconds?: number;
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
  /** Pods drained this pass for replacement (past maxTasksPerPod or maxPodAgeSeconds). */
  recycled: string[];
  adopted: string[];
  expired: number;
  deadlines: number;
  /** Set when the pass left the pool alone: another actor held it. */
  skipped?: string;
  errors: string[];
}

const emptyReport = (pool: Pool): ReconcileReport => ({
  pool: pool.name,
  decision: { kind: "none", fromPods: 0, toPods: 0, create: 0, remove: [], utilization: 0, reason: "" },
  created: [],
  deleted: [],
  returnedToReady: [],
  lost: [],
  recycled: [],
  adopted: [],
  expired: 0,
  deadlines: 0,
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

export const runtimeSpec = (pool: Pool): RuntimePoolSpec => ({
  name: pool.name,
  namespace: pool.namespace,
  image: pool.image,
  podTemplate: pool.podTemplate,
  slotsPerPod: pool.slotsPerPod,
});

/** A new pod's slots: all idle, indexed from 0. */
const idleSlots = (pool: Pool) => Array.from({ length: pool.slotsPerPod }, (_, index) => ({ index }));

const podName = (pool: string) => `${pool}-${randomBytes(4).toString("hex").slice(0, 5)}`;

const message = (error: unknown) => (error as Error)?.message ?? String(error);

/** Orphaned runtime pods are looked for at most this often (it lists every pod Berth labelled). */
const ORPHAN_SCAN_MS = 60_000;
/** A kicked pass that found the pool held by another actor tries again this many times. */
const KICK_RETRIES = 4;
/** A live pod of our scope missing from its runtime's list this long is gone. */
const MISSING_GRACE_SECONDS = 30;

/**
 * Keeps every pool at the right number of pods without ever deleting busy work. Every act on a
 * pool (a reconcile pass, a manual scale, a delete) runs under the pool's guard (see guard.ts):
 * one actor per pool, fenced where it writes. A pass observes once, decides with pure functions,
 * then acts idempotently, so it is safe to repeat and to interrupt.
 */
export class PoolController {
  private readonly startTimeoutSeconds: number;
  private readonly podHistorySeconds: number;
  private readonly guards: PoolGuards;
  private readonly startedAt: Date;
  private lastOrphanScan = 0;
  private housekeeping: Promise<unknown> | null = null;
  private readonly informers = new Map<string, { key: string; informer: PodInformer }>();
  private readonly kicks = new Map<string, NodeJS.Timeout>();
  /** When this process last sampled each pool: saves the statement in passes between samples. */
  private readonly sampledAt = new Map<string, number>();
  private closed = false;
  private readonly demand = new AbortController();
  private demandLoop: Promise<void> | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly opts: PoolControllerOptions,
  ) {
    this.startTimeoutSeconds = opts.startTimeoutSeconds ?? 300;
    this.podHistorySeconds = opts.podHistorySeconds ?? 600;
    this.guards = new PoolGuards(ctx, opts.locks ?? createMemoryLockService({ replicaId: "local" }));
    this.startedAt = opts.startedAt ?? ctx.now();
    if (opts.demand) this.demandLoop = this.listenForDemand();
  }

  /** Demand events kick the pool's pass; a lost event only delays it to the scheduled pass. */
  private async listenForDemand(): Promise<void> {
    try {
      for await (const event of this.ctx.events.subscribe("poolDemand", this.demand.signal)) {
        if (!isResync(event)) this.kick(event.poolId);
      }
    } catch {
      // The bus closed: the scheduled passes go on.
    }
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
      const pool = await this.ctx.prisma.pool.create({ data: { ...spec, ...jsonColumns(spec) } });
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
      data: { ...data, ...jsonColumns(spec) },
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
    await this.guards.run(
      pool,
      (guard) =>
        retryOnConflict(() =>
          this.ctx.prisma.$transaction(async (tx) => {
            // Lock order: the pool's live tasks, then its slots (idle ones too: an allocation racing
            // the delete either committed first and is counted here, or finds its slot gone), then
            // the pool itself.
            await tx.$queryRawUnsafe(
              `SELECT id FROM "Task" WHERE "poolId" = $1::uuid AND status IN ('pending', 'running', 'apply_pending', 'applying') ORDER BY id FOR UPDATE`,
              pool.id,
            );
            const slots = await tx.$queryRawUnsafe<{ state: string }[]>(
              `SELECT s.state::text AS state FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p."poolId" = $1::uuid ORDER BY s.id FOR UPDATE OF s`,
              pool.id,
            );
            const busy = slots.filter((s) => s.state !== "idle").length;
            if (busy > 0) throw new PoolBusyError(name, busy);
            await tx.task.updateMany({ where: { poolId: pool.id, status: "pending" }, data: { status: "cancelled", failureReason: "pool_deleted", error: "pool deleted" } });
            await guard.fence(tx);
            await tx.pool.delete({ where: { id: pool.id } });
          }),
        ),
      { waitMs: this.opts.guardWaitMs ?? 10_000 },
    );
    // Pods whose delete fails here are found again as orphans (labelled, without a row).
    if (runtime) for (const p of pods) await runtime.delete(runtimeSpec(pool), p.name).catch(() => {});
    // The agent token Secret goes with the pool (the tokens themselves went with its row).
    await runtime?.releasePool?.(runtimeSpec(pool)).catch(() => {});
    forgetPoolGauges(name);
    await this.ctx.events.publish("pool", { name, podCount: 0, utilization: 0, deleted: true, at: this.ctx.now().toISOString() });
  }

  /** Manual scale through the same safety as the autoscaler: busy pods are never removed. `actor` (a token name) is recorded. */
  async scalePool(name: string, pods: number, actor?: string): Promise<ScaleResult> {
    const pool = await getPool(this.ctx, name);
    if (!Number.isInteger(pods) || pods < pool.minPods || pods > pool.maxPods) {
      throw new PoolSpecError("pods", `pods must be between minPods (${pool.minPods}) and maxPods (${pool.maxPods}); change the limits first`);
    }
    const result = await this.guards.run(
      pool,
      async (guard) => {
        const before = toPodSnapshots(await this.readPods(pool.id));
        const plan = planManualScale(before, pods, this.ctx.now());
        const created = await this.createPods(pool, plan.create, guard);
        let removed = 0;
        let blocked = plan.blockedPods;
        for (const pod of plan.remove) {
          if ((await this.drainAndDelete(pool, pod, guard)) === "deleted") removed++;
          else blocked++;
        }
        const after = toPodSnapshots(await this.readPods(pool.id));
        const podCount = livePods(after).length;
        await this.record(pool, {
          kind: "manual_scale",
          fromPods: livePods(before).length,
          toPods: podCount,
          utilization: utilization(livePods(before)),
          reason: `manual scale to ${pods}: ${created.length} added, ${removed} removed, ${blocked} busy pod(s) kept`,
          actor,
        });
        await publishPoolChanged(this.ctx, pool, after);
        return { requested: pods, applied: created.length + removed, blockedPods: blocked, podCount };
      },
      { waitMs: this.opts.guardWaitMs ?? 10_000 },
    );
    return result!;
  }

  /** A pod of the pool, or PodNotFoundError. */
  private async podOf(pool: Pool, podName: string) {
    const pod = await this.ctx.prisma.pod.findFirst({ where: { poolId: pool.id, name: podName }, include: { slots: { select: { state: true } } } });
    if (!pod) throw new PodNotFoundError(podName);
    return pod;
  }

  /**
   * Drains one pod by hand: it takes no new work from now on and is deleted once every slot is
   * idle (at once when it already is); its running and reserved work goes on until then.
   */
  async drainPod(poolName: string, podName: string): Promise<{ pod: string; phase: string }> {
    const pool = await getPool(this.ctx, poolName);
    const pod = await this.podOf(pool, podName);
    if (pod.phase === "Lost" || pod.phase === "Terminating") throw new PodPhaseError(podName, pod.phase, "drain it");
    await this.guards.run(
      pool,
      async (guard) => {
        await this.guarded(guard, (tx) =>
          tx.pod.updateMany({ where: { id: pod.id, phase: { in: ["Pending", "Starting", "Ready"] } }, data: { phase: "Draining", phaseChangedAt: this.ctx.now() } }),
        );
        await this.record(pool, { kind: "pod_drain", fromPods: 0, toPods: 0, utilization: 0, reason: `pod ${podName} drained by hand: no new work, deleted once idle` });
        await this.deleteDrainedIfIdle(pool, guard, [podName]);
      },
      { waitMs: this.opts.guardWaitMs ?? 10_000 },
    );
    const now = await this.ctx.prisma.pod.findUnique({ where: { id: pod.id }, select: { phase: true } });
    await publishPoolChanged(this.ctx, pool);
    return { pod: podName, phase: now?.phase ?? "Terminating" };
  }

  /** Deletes one pod now, by drain-then-delete; refused (PodBusyError) while a slot is running or reserved. */
  async deletePod(poolName: string, podName: string): Promise<void> {
    const pool = await getPool(this.ctx, poolName);
    const pod = await this.podOf(pool, podName);
    if (pod.phase === "Lost" || pod.phase === "Terminating") throw new PodPhaseError(podName, pod.phase, "delete it (it is already going)");
    const busy = pod.slots.filter((s) => s.state !== "idle").length;
    if (busy > 0) throw new PodBusyError(podName, busy);
    const outcome = await this.guards.run(pool, (guard) => this.drainAndDelete(pool, podName, guard, { drainedByHand: pod.phase === "Draining" }), {
      waitMs: this.opts.guardWaitMs ?? 10_000,
    });
    if (outcome === "busy") {
      const now = await this.podOf(pool, podName);
      throw new PodBusyError(podName, now.slots.filter((s) => s.state !== "idle").length);
    }
    await this.record(pool, { kind: "pod_delete", fromPods: 0, toPods: 0, utilization: 0, reason: `pod ${podName} deleted by hand` });
    await publishPoolChanged(this.ctx, pool);
  }

  /** Forgets a Lost pod now (its row is otherwise kept a while for history); its runtime pod is deleted if still there. */
  async clearLostPod(poolName: string, podName: string): Promise<void> {
    const pool = await getPool(this.ctx, poolName);
    const pod = await this.podOf(pool, podName);
    if (pod.phase !== "Lost") throw new PodPhaseError(podName, pod.phase, "clear it (only Lost pods are cleared)");
    await this.guards.run(
      pool,
      async (guard) => {
        await this.guarded(guard, (tx) => tx.pod.deleteMany({ where: { id: pod.id, phase: "Lost" } }));
        await this.opts.runtimes[pool.runtime]?.delete(runtimeSpec(pool), podName).catch(() => {});
      },
      { waitMs: this.opts.guardWaitMs ?? 10_000 },
    );
    await publishPoolChanged(this.ctx, pool);
  }

  /** Pods drained by hand (Draining outside a drain in progress) whose slots are all idle now: deleted. */
  private async deleteDrainedIfIdle(pool: Pool, guard: PoolGuard, only?: string[]): Promise<string[]> {
    const drained = await this.ctx.prisma.pod.findMany({
      where: { poolId: pool.id, phase: "Draining", ...(only ? { name: { in: only } } : {}), slots: { every: { state: "idle" } } },
      select: { name: true },
    });
    const deleted: string[] = [];
    for (const { name } of drained) {
      // drainAndDelete re-checks under the slots' locks that they are idle.
      if ((await this.drainAndDelete(pool, name, guard, { drainedByHand: true })) === "deleted") deleted.push(name);
    }
    return deleted;
  }

  /**
   * One reconcile pass over every pool. Each pool's pass runs under its guard; a pool another
   * actor holds is left for the next pass. `signal` (the reconcile job's lock) stops the pass.
   */
  async reconcileAll(signal?: AbortSignal): Promise<ReconcileReport[]> {
    const pools = await this.ctx.prisma.pool.findMany({ orderBy: { name: "asc" } });
    forgetGaugesOfPoolsOtherThan(pools.map((p) => p.name));
    for (const id of this.informers.keys()) if (!pools.some((p) => p.id === id)) this.forgetInformer(id);
    for (const id of this.sampledAt.keys()) if (!pools.some((p) => p.id === id)) this.sampledAt.delete(id);
    // Housekeeping runs beside the pass, one at a time: a slow or stuck runtime call there must
    // never hold up the pools' passes.
    if (!this.housekeeping) this.housekeeping = this.scanForOrphans().catch(() => []).finally(() => (this.housekeeping = null));
    const reports: ReconcileReport[] = [];
    for (const pool of pools) {
      signal?.throwIfAborted();
      // One pool's failure must not keep the pools after it from their pass.
      const report = await this.guards
        .run(pool, (guard) => this.passUnderGuard(pool, guard), { signal })
        .catch((error: unknown) => ({ ...emptyReport(pool), errors: [message(error)] }));
      reports.push(report ?? { ...emptyReport(pool), skipped: "another actor holds the pool" });
    }
    return reports;
  }

  /** One pool's pass, taking its guard (for callers outside reconcileAll). */
  async reconcilePool(pool: Pool): Promise<ReconcileReport> {
    const report = await this.guards.run(pool, (guard) => this.passUnderGuard(pool, guard), { waitMs: this.opts.guardWaitMs ?? 10_000 });
    return report!;
  }

  /**
   * The pass, in order: observe (pool, pods, queue, runtime), act on the runtime's pods, Lost pods,
   * repair slots, deadlines, reservations, placement, then scale and write conditions.
   */
  private async passUnderGuard(stale: Pool, guard: PoolGuard): Promise<ReconcileReport> {
    const started = process.hrtime.bigint();
    const view = await this.observe(stale.id);
    if (!view) return { ...emptyReport(stale), skipped: "the pool was deleted" };
    const { pool } = view;
    const report = emptyReport(pool);
    if (view.runtime && "error" in view.runtime) report.errors.push(`could not list pods: ${view.runtime.error}`);
    if (!view.runtime) report.errors.push(`runtime ${pool.runtime} is not available on this server`);

    const plan = planRuntime(view, {
      missingGraceSeconds: MISSING_GRACE_SECONDS,
      terminatingTimeoutSeconds: this.opts.terminatingTimeoutSeconds ?? 300,
      heartbeatTimeoutSeconds: this.opts.heartbeatTimeoutSeconds,
      podHistorySeconds: this.podHistorySeconds,
      tracksDeletionCost: Boolean(this.opts.runtimes[pool.runtime]?.setDeletionCost),
    });
    await this.actOnRuntime(pool, plan, guard, report);

    guard.check();
    const judgeHeartbeats = this.ctx.now().getTime() - this.startedAt.getTime() >= this.opts.heartbeatTimeoutSeconds * 1000;
    const lost = await detectLostPods(this.ctx, {
      poolId: pool.id,
      timeoutSeconds: this.opts.heartbeatTimeoutSeconds,
      startTimeoutSeconds: this.startTimeoutSeconds,
      gone: plan.gone,
      heartbeats: judgeHeartbeats,
      fence: (tx) => guard.fence(tx),
    });
    report.lost = lost.map((l) => l.pod);

    guard.check();
    await this.repairSlots(pool);
    report.deadlines = (await enforceDeadlines(this.ctx, pool.id)).length;
    const expired = await expireReservations(this.ctx, pool.id);
    report.expired = expired.length;
    await unblockKeys(this.ctx, pool.id);
    await placePending(this.ctx, pool);
    report.recycled = await this.recycle(pool, guard);
    report.deleted.push(...(await this.deleteDrainedIfIdle(pool, guard)));

    guard.check();
    const rows = await this.readPods(pool.id);
    const pods = toPodSnapshots(rows);
    const pendingTasks = await this.ctx.prisma.task.count({ where: { poolId: pool.id, status: "pending", keyBlocked: false } });
    const waiting = await this.recordQueue(pool, pods);
    if (expired.length > 0) {
      const live = livePods(pods).length;
      await this.record(pool, { kind: "reservation_expired", fromPods: live, toPods: live, utilization: 0, reason: `${expired.length} reservation(s) expired` });
    }
    const changed = await this.autoscale(pool, pods, pendingTasks, guard, report);
    const final = changed ? toPodSnapshots(await this.readPods(pool.id)) : pods;
    await this.updateConditions(pool, final, pendingTasks, report);
    await this.sample(pool, final, pendingTasks, waiting, guard);
    poolMetrics.reconcileSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return report;
  }

  /** Step 8: a utilisation sample, unless one (by any replica) is younger than the interval. */
  private async sample(pool: Pool, pods: PodSnapshot[], pendingTasks: number, waiting: PendingByReason, guard: PoolGuard): Promise<void> {
    const interval = this.opts.sampleIntervalSeconds ?? DEFAULT_SAMPLE_INTERVAL_SECONDS;
    const now = this.ctx.now();
    if (now.getTime() - (this.sampledAt.get(pool.id) ?? 0) < interval * 1000 - 500) return;
    const written = await this.guarded(guard, (tx) => recordSample(tx, pool.id, sampleOf(pods, pendingTasks, waiting), now, interval));
    if (written) this.sampledAt.set(pool.id, now.getTime());
  }

  private async readPods(poolId: string): Promise<PodRow[]> {
    return this.ctx.prisma.pod.findMany({
      where: { poolId },
      orderBy: [{ createdAt: "asc" }, { name: "asc" }],
      select: {
        id: true,
        name: true,
        phase: true,
        createdAt: true,
        readyAt: true,
        lastHeartbeatAt: true,
        phaseChangedAt: true,
        runtimeScope: true,
        tasksStarted: true,
        slots: { select: { state: true }, orderBy: { index: "asc" } },
      },
    });
  }

  /** The pool's informer when watching is on (started on first use, restarted when its namespace changes). */
  private informerOf(pool: Pool, runtime: PodRuntime): PodInformer | null {
    if (!this.opts.watch || this.closed) return null;
    const key = `${pool.runtime}/${pool.namespace}`;
    const held = this.informers.get(pool.id);
    if (held?.key === key) return held.informer;
    held?.informer.close();
    const informer = startInformer(runtime, runtimeSpec(pool), { onChange: () => this.kick(pool.id) });
    this.informers.set(pool.id, { key, informer });
    return informer;
  }

  /**
   * A change of the pool's pods, or new work: its pass runs in a moment (once for a burst of
   * changes). When another actor holds the pool, the kick tries again a few times: that actor
   * may have observed the pool before the change.
   */
  private kick(poolId: string, attempt = 0): void {
    if (this.closed || this.kicks.has(poolId)) return;
    const timer = setTimeout(() => {
      this.kicks.delete(poolId);
      void (async () => {
        const pool = await this.ctx.prisma.pool.findUnique({ where: { id: poolId } });
        if (!pool) return this.forgetInformer(poolId);
        poolMetrics.triggeredPasses.inc({ pool: pool.name });
        const report = await this.guards.run(pool, (guard) => this.passUnderGuard(pool, guard));
        if (report === null && attempt < KICK_RETRIES) this.kick(poolId, attempt + 1);
      })().catch(() => {
        // The scheduled pass retries whatever this one could not do.
      });
    }, attempt === 0 ? 100 : 250);
    timer.unref();
    this.kicks.set(poolId, timer);
  }

  private forgetInformer(poolId: string): void {
    this.informers.get(poolId)?.informer.close();
    this.informers.delete(poolId);
  }

  /** Stops the informers and pending triggered passes; waits for housekeeping in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.demand.abort();
    await this.demandLoop;
    await this.housekeeping;
    for (const timer of this.kicks.values()) clearTimeout(timer);
    this.kicks.clear();
    for (const id of [...this.informers.keys()]) this.forgetInformer(id);
  }

  /** The pool's one observation: its row, pods with slots, queue length, and its runtime's pods (watched, or listed). */
  private async observe(poolId: string): Promise<PoolView | null> {
    const pool = await this.ctx.prisma.pool.findUnique({ where: { id: poolId } });
    if (!pool) return null;
    const [pods, pendingTasks] = await Promise.all([this.readPods(pool.id), this.ctx.prisma.task.count({ where: { poolId: pool.id, status: "pending", keyBlocked: false } })]);
    const runtime = this.opts.runtimes[pool.runtime];
    let listed: PoolView["runtime"] = null;
    if (runtime) {
      try {
        const watched = this.informerOf(pool, runtime)?.snapshot();
        listed = { scope: runtime.scope, pods: watched ?? (await runtime.list(runtimeSpec(pool))) };
      } catch (error) {
        poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "list" });
        listed = { scope: runtime.scope, error: message(error) };
      }
    }
    return { pool, pods, pendingTasks, runtime: listed, now: this.ctx.now() };
  }

  private async actOnRuntime(pool: Pool, plan: ReturnType<typeof planRuntime>, guard: PoolGuard, report: ReconcileReport): Promise<void> {
    const runtime = this.opts.runtimes[pool.runtime];
    if (!runtime) return;
    const spec = runtimeSpec(pool);
    for (const name of plan.start) {
      await this.startRuntimePod(pool, name, guard).catch((e: unknown) => report.errors.push(message(e)));
    }
    for (const name of plan.remove) {
      guard.check();
      await guard.assert();
      await runtime.delete(spec, name).catch((e: unknown) => {
        poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "delete" });
        report.errors.push(`could not delete pod ${name}: ${message(e)}`);
      });
    }
    if (plan.forget.length > 0) {
      await this.guarded(guard, (tx) => tx.pod.deleteMany({ where: { poolId: pool.id, name: { in: plan.forget }, phase: { in: ["Terminating", "Lost"] } } }));
    }
    for (const pod of plan.adopt) {
      await this.adopt(pool, pod, runtime.scope, guard);
      report.adopted.push(pod.name);
    }
    if (plan.costs.length > 0 && runtime.setDeletionCost) {
      await guard.assert();
      for (const { name, cost } of plan.costs) await runtime.setDeletionCost(spec, name, cost).catch(() => {});
    }
  }

  /** Runs `write` in a transaction that ends with the guard's fence (the Pool row, last in the lock order). */
  private guarded<T>(guard: PoolGuard, write: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    guard.check();
    return retryOnConflict(() =>
      this.ctx.prisma.$transaction(async (tx) => {
        const result = await write(tx);
        await guard.fence(tx);
        return result;
      }),
    );
  }

  /** A runtime pod of the pool that has no row (created outside a pass of this database): taken in as Starting. */
  private async adopt(pool: Pool, pod: RuntimePod, scope: string, guard: PoolGuard): Promise<void> {
    await this.guarded(guard, async (tx) => {
      if (await tx.pod.findUnique({ where: { name: pod.name }, select: { id: true } })) return;
      await tx.pod.create({
        data: { name: pod.name, poolId: pool.id, phase: "Starting", createdAt: pod.createdAt, phaseChangedAt: this.ctx.now(), runtimeScope: scope, slots: { create: idleSlots(pool) } },
      });
    });
  }

  /** Returns whether it changed any pod. */
  private async autoscale(pool: Pool, pods: PodSnapshot[], pendingTasks: number, guard: PoolGuard, report: ReconcileReport): Promise<boolean> {
    const now = this.ctx.now();
    const spec = specOf(pool);
    const limits = limitsAt(spec, now);
    if (limits.active.length > 0) await this.recordWindows(pool, limits.active, pods);
    const snapshot = {
      spec: { ...spec, minPods: limits.minPods, maxPods: limits.maxPods },
      blockScaleDown: limits.blockScaleDown,
      pods,
      pendingTasks,
      lastScaleUpAt: pool.lastScaleUpAt,
      lastScaleDownAt: pool.lastScaleDownAt,
      lowSince: pool.lowUtilizationSince,
    };
    const lowSince = nextLowSince(snapshot, now);
    const decision = decideScaling({ ...snapshot, lowSince }, now);
    report.decision = decision;
    if (lowSince?.getTime() !== pool.lowUtilizationSince?.getTime()) {
      await this.ctx.prisma.pool.update({ where: { id: pool.id }, data: { lowUtilizationSince: lowSince } });
    }
    if (decision.kind === "none") return false;
    if (decision.kind === "scale_down_blocked") {
      await this.record(pool, decision, { dedupeSeconds: Math.max(pool.scaleDownCooldownSeconds, 60) });
      poolMetrics.scaleDownBlocked.inc({ pool: pool.name, reason: decision.reason.includes("running or reserved") ? "busy" : "grace" });
      return false;
    }
    report.created = await this.createPods(pool, decision.create, guard).catch((e: unknown) => {
      report.errors.push(message(e));
      return [];
    });
    for (const name of decision.remove) {
      if ((await this.drainAndDelete(pool, name, guard)) === "deleted") report.deleted.push(name);
      else report.returnedToReady.push(name);
    }
    const applied = report.created.length + report.deleted.length;
    if (applied === 0) return decision.remove.length > 0;
    await this.ctx.prisma.pool.update({
      where: { id: pool.id },
      data: decision.create > 0 ? { lastScaleUpAt: now } : { lastScaleDownAt: now, lowUtilizationSince: null },
    });
    await this.record(pool, { ...decision, toPods: decision.fromPods + report.created.length - report.deleted.length });
    poolMetrics.scalings.inc({ pool: pool.name, kind: decision.kind }, applied);
    return true;
  }

  /** A `schedule_override` event for each window occurrence that took effect since the last pass. */
  private async recordWindows(pool: Pool, active: ActiveCapacityWindow[], pods: PodSnapshot[]): Promise<void> {
    const recent = await this.ctx.prisma.scalingEvent.findMany({
      where: { poolId: pool.id, kind: "schedule_override" },
      orderBy: { at: "desc" },
      take: MAX_CAPACITY_WINDOWS,
      select: { reason: true },
    });
    const live = livePods(pods).length;
    for (const a of active) {
      const reason = describeWindow(a);
      if (recent.some((e) => e.reason === reason)) continue;
      await this.record(pool, { kind: "schedule_override", fromPods: live, toPods: live, utilization: utilization(livePods(pods)), reason });
    }
  }

  /**
   * Drains the pool's Ready pods past maxTasksPerPod or maxPodAgeSeconds: they take no new work
   * and are deleted once every slot is idle (deleteDrainedIfIdle), like a pod drained by hand.
   * Their running and reserved work goes on; the autoscaler counts them out of the serving pods,
   * so pending work or minPods brings replacements.
   */
  private async recycle(pool: Pool, guard: PoolGuard): Promise<string[]> {
    if (pool.maxTasksPerPod === null && pool.maxPodAgeSeconds === null) return [];
    const now = this.ctx.now();
    const due = selectPodsToRecycle(toPodSnapshots(await this.readPods(pool.id)), pool, now);
    const drained: string[] = [];
    for (const { name, reason } of due) {
      const { count } = await this.guarded(guard, (tx) =>
        tx.pod.updateMany({ where: { poolId: pool.id, name, phase: "Ready" }, data: { phase: "Draining", phaseChangedAt: now } }),
      );
      if (count === 0) continue;
      drained.push(name);
      await this.record(pool, { kind: "pod_recycle", fromPods: 0, toPods: 0, utilization: 0, reason: `pod ${name} ${reason}: drained, deleted once idle` });
    }
    poolMetrics.scalings.inc({ pool: pool.name, kind: "pod_recycle" }, drained.length);
    return drained;
  }

  /** Adds pods: the row first (Pending, with idle slots), fenced, then the runtime pod (Starting). */
  private async createPods(pool: Pool, count: number, guard: PoolGuard): Promise<string[]> {
    const runtime = this.runtimeFor(pool);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = podName(pool.name);
      await this.guarded(guard, (tx) =>
        tx.pod.create({
          data: { name, poolId: pool.id, phase: "Pending", createdAt: this.ctx.now(), phaseChangedAt: this.ctx.now(), runtimeScope: runtime.scope, slots: { create: idleSlots(pool) } },
        }),
      );
      names.push(name);
      await this.startRuntimePod(pool, name, guard);
    }
    return names;
  }

  private async startRuntimePod(pool: Pool, name: string, guard: PoolGuard): Promise<void> {
    await guard.assert();
    try {
      await this.runtimeFor(pool).create(runtimeSpec(pool), name);
      await this.ctx.prisma.pod.updateMany({ where: { name, phase: "Pending" }, data: { phase: "Starting", phaseChangedAt: this.ctx.now() } });
    } catch (error) {
      // Stays Pending: the next pass retries the create.
      poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "create" });
      throw Object.assign(new Error(`could not start pod ${name}: ${message(error)}`), { cause: error });
    }
  }

  /**
   * Drain-then-delete. The pod is marked Draining (allocation skips it), then, under row locks
   * on its slots, made Terminating only if every slot is still idle; otherwise it goes back to
   * Ready. The runtime deletes it gracefully; the row stays Terminating until the runtime no
   * longer lists the pod, so that a pod still shutting down is never taken for a new one.
   */
  async drainAndDelete(pool: Pool, name: string, guard: PoolGuard, options: { drainedByHand?: boolean } = {}): Promise<"deleted" | "busy"> {
    // A pod drained by hand is Draining already, and stays so when it turns out busy.
    const from = options.drainedByHand ? (["Draining"] as const) : (["Ready", "Pending", "Starting"] as const);
    const back = options.drainedByHand ? "Draining" : "Ready";
    const drained = await this.guarded(guard, (tx) =>
      tx.pod.updateMany({ where: { name, poolId: pool.id, phase: { in: [...from] } }, data: { phase: "Draining", ...(options.drainedByHand ? {} : { phaseChangedAt: this.ctx.now() }) } }),
    );
    if (drained.count === 0) return "busy";
    const outcome = await this.guarded(guard, async (tx) => {
      // Lock order: the pod's slots, then the pod, then (in the fence) the pool.
      const slots = await tx.$queryRawUnsafe<{ index: number; state: string; taskId: string | null }[]>(
        `SELECT s.index, s.state::text AS state, s."taskId" FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" WHERE p.name = $1 ORDER BY s.index FOR UPDATE OF s`,
        name,
      );
      if (slots.some((s) => s.state !== "idle" || s.taskId !== null)) {
        if (back === "Ready") await tx.pod.updateMany({ where: { name, phase: "Draining" }, data: { phase: "Ready", phaseChangedAt: this.ctx.now() } });
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
      await guard.assert();
      await this.runtimeFor(pool).delete(runtimeSpec(pool), name);
    } catch (error) {
      if (error instanceof Error && error.name === "PoolGuardLostError") throw error;
      // Terminating stays: the next pass deletes it from the runtime again.
      poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "delete" });
    }
    return "deleted";
  }

  /** Step 3: repair any slot whose state disagrees with its task (level-triggered safety net). */
  private async repairSlots(pool: Pool): Promise<void> {
    const now = this.ctx.now();
    const freed = await retryOnConflict(() =>
      this.ctx.prisma.$transaction(async (tx) => {
        // A task that ended while its agent ran it keeps the slot for its stop, within the grace.
        const rows = await tx.$queryRawUnsafe<{ pod: string; index: number; taskId: string }[]>(
          `UPDATE "Slot" s SET state = 'idle', "taskId" = NULL, "reservedUntil" = NULL, "updatedAt" = $2::timestamp(3)
           FROM "Task" t, "Pod" p
           WHERE s."taskId" = t.id AND p.id = s."podId" AND p."poolId" = $1::uuid
             AND (t.status = 'pending'
                  OR (t.status IN ('succeeded', 'failed', 'cancelled', 'expired')
                      AND (t."stopRequestedAt" IS NULL OR t."stopRequestedAt" < $2::timestamp(3) - make_interval(secs => $3))))
           RETURNING p.name AS pod, s.index, t.id AS "taskId"`,
          pool.id,
          now,
          pool.stopGraceSeconds,
        );
        for (const r of rows) await closeAssignment(tx, r.taskId, "repaired: task no longer held the slot");
        return rows;
      }),
    );
    // After the commit: locking the tasks inside would take a Task lock after Slot locks.
    if (freed.length > 0) {
      await this.ctx.prisma.task.updateMany({ where: { id: { in: freed.map((r) => r.taskId) }, stopRequestedAt: { not: null } }, data: { stopRequestedAt: null } });
    }
    for (const s of freed) await publishSlotChange(this.ctx, { pool: pool.name, pod: s.pod, index: s.index }, "idle", null);
    const reserved = await this.ctx.prisma.$queryRawUnsafe<{ pod: string; index: number; taskId: string }[]>(
      `UPDATE "Slot" s SET state = 'reserved', "reservedUntil" = COALESCE(t."planReadyAt", $3::timestamp(3)) + make_interval(secs => $2), "updatedAt" = $3::timestamp(3)
       FROM "Task" t, "Pod" p
       WHERE s."taskId" = t.id AND p.id = s."podId" AND p."poolId" = $1::uuid AND t.status = 'apply_pending' AND s.state = 'running'
       RETURNING p.name AS pod, s.index, t.id AS "taskId"`,
      pool.id,
      pool.reservationTtlSeconds,
      now,
    );
    for (const s of reserved) await publishSlotChange(this.ctx, { pool: pool.name, pod: s.pod, index: s.index }, "reserved", s.taskId);
    // Tasks that believe they run but hold no slot (their pod vanished mid-transition).
    await this.ctx.prisma.$executeRawUnsafe(
      `UPDATE "Task" t SET status = 'failed', "finishedAt" = $2::timestamp(3), "failureReason" = 'slot_lost', error = 'slot_lost: the task lost its slot'
       WHERE t."poolId" = $1::uuid AND t.status IN ('running', 'apply_pending', 'applying')
         AND NOT EXISTS (SELECT 1 FROM "Slot" s WHERE s."taskId" = t.id)`,
      pool.id,
      now,
    );
    if (freed.length > 0) await placePending(this.ctx, pool, freed.length);
  }

  /** The pending-by-reason gauge of the pool, from this pass's pods and one grouped count of its queue. */
  private async recordQueue(pool: Pool, pods: PodSnapshot[]): Promise<PendingByReason> {
    const queue = (await queueCounts(this.ctx, [pool.id])).get(pool.id)!;
    const ready = pods.filter((p) => p.phase === "Ready").length;
    const waiting = pendingByReason(queue, plansCapped(pool, ready, countSlots(pods).reserved, queue.runningPlans));
    recordPendingGauge(pool.name, waiting);
    return waiting;
  }

  private async updateConditions(pool: Pool, pods: PodSnapshot[], pending: number, report: ReconcileReport): Promise<void> {
    const live = livePods(pods);
    const counts = podCounts(pods);
    const recentLost = await this.ctx.prisma.scalingEvent.count({
      where: { poolId: pool.id, kind: "pod_lost", at: { gt: new Date(this.ctx.now().getTime() - 10 * 60_000) } },
    });
    const fresh = await this.ctx.prisma.pool.findUnique({ where: { id: pool.id }, select: { conditions: true } });
    if (!fresh) return;
    const cond = conditionMaker((fresh.conditions as unknown as PoolCondition[]) ?? [], this.ctx.now());
    const scalingUp = report.decision.kind === "scale_up" && report.created.length > 0;
    // Work waits with every slot busy and no room to add pods: more demand than the pool may serve.
    const saturated = pending > 0 && utilization(live) >= 1 && live.length >= pool.maxPods;
    const conditions = [
      availableCondition(cond, pool, counts, pending),
      cond(
        "Progressing",
        counts.starting > 0 || report.created.length > 0 || report.deleted.length > 0,
        scalingUp ? "ScalingUp" : counts.starting > 0 ? "PodsStarting" : report.deleted.length > 0 ? "ScalingDown" : "Stable",
        scalingUp ? `${report.created.length} pod(s) added: ${report.decision.reason}` : counts.starting > 0 ? `${counts.starting} pod(s) starting` : report.decision.reason,
      ),
      cond(
        "Degraded",
        report.errors.length > 0 || recentLost > 0 || saturated,
        report.errors.length > 0 ? "RuntimeError" : recentLost > 0 ? "PodsLost" : saturated ? "Saturated" : "Healthy",
        report.errors[0] ??
          (recentLost > 0
            ? `${recentLost} pod(s) lost in the last 10 minutes`
            : saturated
              ? `${pending} task(s) wait with every slot busy at maxPods (${pool.maxPods})`
              : "no problems seen"),
      ),
    ];
    await saveConditions(this.ctx, { ...pool, conditions: fresh.conditions }, conditions);
    recordPoolGauges(pool.name, pods, utilization(live));
    await publishPoolChanged(this.ctx, pool, pods);
  }

  /**
   * Housekeeping at most once a minute: agent tokens no pod uses are revoked, and runtime pods
   * labelled as Berth's that have no row (their pool or their row was deleted while the pod lived
   * on, e.g. across a restart) are deleted. The list comes before the rows are read,
   * and a row is always written before its pod is created, so a pod being created is never taken
   * for an orphan.
   */
  async scanForOrphans(): Promise<string[]> {
    const nowMs = this.ctx.now().getTime();
    if (nowMs - this.lastOrphanScan < ORPHAN_SCAN_MS) return [];
    this.lastOrphanScan = nowMs;
    const deleted: string[] = [];
    await pruneSamples(this.ctx, this.opts.sampleRetentionSeconds ?? DEFAULT_SAMPLE_RETENTION_SECONDS);
    // Agent tokens no pod refers to any more are revoked at the same pace.
    for (const pool of await this.ctx.prisma.pool.findMany()) {
      await this.opts.runtimes[pool.runtime]?.pruneAgentTokens?.(runtimeSpec(pool)).catch(() => poolMetrics.runtimeErrors.inc({ pool: pool.name, operation: "prune" }));
    }
    for (const runtime of new Set(Object.values(this.opts.runtimes).filter((r): r is PodRuntime => r !== undefined))) {
      const listed = (await runtime.listAll()).filter((p) => !p.terminating);
      if (listed.length === 0) continue;
      const rows = await this.ctx.prisma.pod.findMany({ where: { name: { in: listed.map((p) => p.name) } }, select: { name: true } });
      const known = new Set(rows.map((r) => r.name));
      for (const pod of listed) {
        if (known.has(pod.name)) continue;
        const spec: RuntimePoolSpec = { name: pod.pool, namespace: pod.namespace ?? "default", image: null, podTemplate: null, slotsPerPod: 0 };
        await runtime.delete(spec, pod.name).then(
          () => deleted.push(pod.name),
          () => poolMetrics.runtimeErrors.inc({ pool: pod.pool, operation: "delete" }),
        );
      }
    }
    return deleted;
  }

  private async record(
    pool: Pool,
    e: { kind: string; fromPods: number; toPods: number; utilization: number; reason: string; actor?: string },
    opts: { dedupeSeconds?: number } = {},
  ): Promise<void> {
    if (opts.dedupeSeconds) {
      const last = await this.ctx.prisma.scalingEvent.findFirst({ where: { poolId: pool.id }, orderBy: { at: "desc" } });
      if (last && last.kind === e.kind && last.reason === e.reason && this.ctx.now().getTime() - last.at.getTime() < opts.dedupeSeconds * 1000) return;
    }
    await this.ctx.prisma.scalingEvent.create({
      data: { poolId: pool.id, kind: e.kind, fromPods: e.fromPods, toPods: e.toPods, utilization: e.utilization, reason: e.reason, actor: e.actor ?? null, at: this.ctx.now() },
    });
  }
}

/** A spec's JSON columns as Prisma writes them (a null task type list clears the column). */
function jsonColumns(spec: PoolSpec): {
  podTemplate: Prisma.InputJsonValue | undefined;
  capacityWindows: Prisma.InputJsonValue;
  taskTypes: Prisma.InputJsonValue | typeof Prisma.DbNull;
} {
  return {
    podTemplate: (spec.podTemplate ?? undefined) as Prisma.InputJsonValue | undefined,
    capacityWindows: spec.capacityWindows as unknown as Prisma.InputJsonValue,
    taskTypes: spec.taskTypes ? (spec.taskTypes as unknown as Prisma.InputJsonValue) : Prisma.DbNull,
  };
}
