import type { ActiveCapacityWindow, CapacityWindow, PendingByReason, PodWithSlots, PoolSpecInput, PoolSummary, ScaleResult, TaskTypeSpec } from "@berth/core/pools";
import type { PoolUtilisation, UtilisationPoint } from "@berth/core/pools";
import { activeCapacityWindowOf, findPoolSummary, listPools, listScalingEvents, podsOfPools, poolSummary, poolUtilisation, scalingEventsOfPools } from "@berth/core/pools";
import type { ScalingEvent } from "@berth/core/db";
import { builder } from "../builder.js";
import { requestLoader } from "../loaders.js";
import { PodRef } from "./pods.js";
import { TaskTypeInput, TaskTypeRef } from "./task-types.js";

const Condition = builder
  .objectRef<{ type: string; status: string; reason: string; message: string; lastTransitionAt?: string }>("PoolCondition")
  .implement({
    description: "Status the Kubernetes way: Available, Progressing, Degraded; status True, False or Unknown.",
    fields: (t) => ({
      type: t.exposeString("type"),
      status: t.exposeString("status"),
      reason: t.exposeString("reason"),
      message: t.exposeString("message"),
      lastTransitionAt: t.string({ nullable: true, resolve: (c) => c.lastTransitionAt ?? null }),
    }),
  });

const CapacityWindowRef = builder.objectRef<CapacityWindow>("CapacityWindow").implement({
  description: "Scheduled capacity: from each fire time of `cron` (in `timeZone`) for `durationSeconds`, the pool keeps minPods, may grow to maxPods, or does not scale down.",
  fields: (t) => ({
    cron: t.exposeString("cron"),
    timeZone: t.exposeString("timeZone"),
    durationSeconds: t.exposeInt("durationSeconds"),
    minPods: t.exposeInt("minPods", { nullable: true }),
    maxPods: t.exposeInt("maxPods", { nullable: true }),
    blockScaleDown: t.exposeBoolean("blockScaleDown"),
    prewarmSeconds: t.exposeInt("prewarmSeconds", { description: "The window takes effect this long before each start." }),
  }),
});

const ActiveCapacityWindowRef = builder.objectRef<ActiveCapacityWindow>("ActiveCapacityWindow").implement({
  description: "A capacity window in effect now (its prewarm lead included).",
  fields: (t) => ({
    index: t.exposeInt("index", { description: "Its position in the pool's capacityWindows." }),
    window: t.field({ type: CapacityWindowRef, resolve: (a) => a.window }),
    startsAt: t.expose("startsAt", { type: "DateTime" }),
    endsAt: t.expose("endsAt", { type: "DateTime" }),
  }),
});

const ScalingEventRef = builder.objectRef<ScalingEvent>("ScalingEvent").implement({
  fields: (t) => ({
    kind: t.exposeString("kind", {
      description:
        "scale_up, scale_down, scale_down_blocked, ensure_min, pod_lost, reservation_expired, manual_scale, policy_override, pod_drain, pod_delete, pod_recycle or schedule_override.",
    }),
    fromPods: t.exposeInt("fromPods"),
    toPods: t.exposeInt("toPods"),
    utilization: t.exposeFloat("utilization"),
    reason: t.exposeString("reason"),
    actor: t.string({ nullable: true, description: "The token name of whoever scaled by hand; null for the autoscaler's decisions.", resolve: (e) => e.actor ?? null }),
    at: t.expose("at", { type: "DateTime" }),
  }),
});

const UtilisationRangeRef = builder.enumType("UtilisationRange", {
  description: "HOUR: every sample of the last hour; DAY: the last day in 5-minute averages.",
  values: ["HOUR", "DAY"] as const,
});

const UtilisationPointRef = builder.objectRef<UtilisationPoint>("UtilisationPoint").implement({
  description: "One sample (or, for a day, the average of a 5-minute bucket) of a pool's slots, queue and pods.",
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    busySlots: t.exposeFloat("busySlots", { description: "Running slots." }),
    reservedSlots: t.exposeFloat("reservedSlots"),
    idleSlots: t.exposeFloat("idleSlots", { description: "Idle slots of Ready (and Draining) pods." }),
    startingSlots: t.exposeFloat("startingSlots", { description: "Slots of pods still starting." }),
    pendingTasks: t.exposeFloat("pendingTasks"),
    podCount: t.exposeFloat("podCount", { description: "Live pods (not Lost or Terminating)." }),
    pendingNoSlot: t.exposeFloat("pendingNoSlot", { description: "Pending tasks waiting for an idle slot (what more pods would help)." }),
    pendingKeyBlocked: t.exposeFloat("pendingKeyBlocked", { description: "Pending tasks waiting behind an earlier task of their concurrency key." }),
    pendingReservedCap: t.exposeFloat("pendingReservedCap", { description: "Pending plans held back by the pool's maxReservedFraction." }),
  }),
});

const PoolUtilisationRef = builder.objectRef<PoolUtilisation>("PoolUtilisation").implement({
  description: "A pool's utilisation over a range, sampled by the reconcile pass, with the scaling events in that range.",
  fields: (t) => ({
    range: t.field({ type: UtilisationRangeRef, resolve: (u) => u.range }),
    from: t.expose("from", { type: "DateTime" }),
    to: t.expose("to", { type: "DateTime" }),
    stepSeconds: t.exposeInt("stepSeconds", { description: "Seconds one point stands for." }),
    points: t.field({ type: [UtilisationPointRef], description: "Oldest first; at most 720 for an hour, 289 for a day (288 five-minute buckets and the one begun).", resolve: (u) => u.points }),
    events: t.field({ type: [ScalingEventRef], description: "Scaling events in the range, oldest first (at most 500, the newest).", resolve: (u) => u.events }),
  }),
});

const PendingByReasonRef = builder.objectRef<PendingByReason>("PendingByReason").implement({
  description: "Why a pool's pending tasks wait.",
  fields: (t) => ({
    noSlot: t.exposeInt("noSlot", { description: "No idle slot on a Ready pod." }),
    keyBlocked: t.exposeInt("keyBlocked", { description: "An earlier task of their concurrency key is active or ahead of them." }),
    reservedCap: t.exposeInt("reservedCap", { description: "plan_and_apply tasks held back: reservations have reached maxReservedFraction." }),
  }),
});

export const PoolRef = builder.objectRef<PoolSummary>("Pool").implement({
  fields: (t) => ({
    name: t.string({ resolve: (s) => s.pool.name }),
    runtime: t.string({ resolve: (s) => s.pool.runtime }),
    namespace: t.string({ resolve: (s) => s.pool.namespace }),
    image: t.string({ nullable: true, resolve: (s) => s.pool.image }),
    podTemplate: t.field({ type: "JSON", nullable: true, resolve: (s) => s.pool.podTemplate }),
    slotsPerPod: t.int({ resolve: (s) => s.pool.slotsPerPod }),
    minPods: t.int({ resolve: (s) => s.pool.minPods }),
    maxPods: t.int({ resolve: (s) => s.pool.maxPods }),
    scaleUpAt: t.float({ resolve: (s) => s.pool.scaleUpAt }),
    scaleDownAt: t.float({ resolve: (s) => s.pool.scaleDownAt }),
    scaleUpCooldownSeconds: t.int({ resolve: (s) => s.pool.scaleUpCooldownSeconds }),
    scaleDownCooldownSeconds: t.int({ resolve: (s) => s.pool.scaleDownCooldownSeconds }),
    stabilizationWindowSeconds: t.int({ resolve: (s) => s.pool.stabilizationWindowSeconds }),
    maxStep: t.int({ resolve: (s) => s.pool.maxStep, description: "Pods removed per scale-down pass at most." }),
    scaleUpMaxStep: t.int({ nullable: true, resolve: (s) => s.pool.scaleUpMaxStep, description: "Pods added per scale-up pass at most; null: what the queue needs, up to maxPods." }),
    maxTasksPerPod: t.int({ nullable: true, resolve: (s) => s.pool.maxTasksPerPod, description: "A pod that started this many tasks is replaced (drain, then delete); null: no limit." }),
    maxPodAgeSeconds: t.int({ nullable: true, resolve: (s) => s.pool.maxPodAgeSeconds, description: "A pod this old is replaced (drain, then delete); null: no limit." }),
    capacityWindows: t.field({ type: [CapacityWindowRef], resolve: (s) => s.pool.capacityWindows as unknown as CapacityWindow[] }),
    activeCapacityWindow: t.field({
      type: ActiveCapacityWindowRef,
      nullable: true,
      description: "The first capacity window in effect now, if any.",
      resolve: (s, _a, ctx) => activeCapacityWindowOf(ctx.services.core, s.pool),
    }),
    newPodGraceSeconds: t.int({ resolve: (s) => s.pool.newPodGraceSeconds }),
    reservationTtlSeconds: t.int({ resolve: (s) => s.pool.reservationTtlSeconds }),
    autoscale: t.boolean({ resolve: (s) => s.pool.autoscale }),
    lostPodPolicy: t.string({ resolve: (s) => s.pool.lostPodPolicy, description: "fail or requeue." }),
    maxAttempts: t.int({ resolve: (s) => s.pool.maxAttempts }),
    taskTimeoutSeconds: t.int({ nullable: true, resolve: (s) => s.pool.taskTimeoutSeconds, description: "Default run deadline of each task phase; null: none." }),
    timeoutPolicy: t.string({ resolve: (s) => s.pool.timeoutPolicy, description: "fail or requeue: what a task past its deadline does." }),
    stopGraceSeconds: t.int({ resolve: (s) => s.pool.stopGraceSeconds, description: "How long a stopped task's slot waits for its agent to confirm the stop." }),
    podPolicyOverride: t.boolean({
      resolve: (s) => s.pool.podPolicyOverride,
      description: "Set by an admin: the pod template may break the pod policy (see the policy_override events).",
    }),
    taskTypes: t.field({
      type: [TaskTypeRef],
      nullable: true,
      complexity: { field: 1, multiplier: 4 },
      resolve: (s) => (s.pool.taskTypes as TaskTypeSpec[] | null) ?? null,
      description: "The task types the pool declares; null: the built-in plan, apply and plan_and_apply ({durationMs, fail}).",
    }),
    maxReservedFraction: t.float({
      resolve: (s) => s.pool.maxReservedFraction,
      description: "The share of the pool's slots that plans waiting for approval may hold (0..1); beyond it new plan_and_apply tasks wait. 1: no cap.",
    }),
    utilization: t.float({ resolve: (s) => s.utilization, description: "(running + reserved) / slots on Ready pods." }),
    podCount: t.int({ resolve: (s) => s.podCount, description: "Pods that exist or are starting (not Lost or Terminating)." }),
    busySlots: t.int({ resolve: (s) => s.busySlots, description: "Running slots." }),
    reservedSlots: t.int({ resolve: (s) => s.reservedSlots, description: "Slots held for plans waiting for approval (not counted in busySlots)." }),
    reservedSlotSeconds: t.float({ resolve: (s) => s.reservedSlotSeconds, description: "Slot-seconds spent reserved, ever: ended reservations plus the open ones up to now." }),
    idleSlots: t.int({ resolve: (s) => s.idleSlots }),
    totalSlots: t.int({ resolve: (s) => s.totalSlots }),
    pendingTasks: t.int({ resolve: (s) => s.pendingTasks }),
    pendingByReason: t.field({ type: PendingByReasonRef, resolve: (s) => s.pendingByReason }),
    conditions: t.field({ type: [Condition], complexity: { field: 1, multiplier: 3 }, resolve: (s) => s.conditions }),
    createdAt: t.field({ type: "DateTime", resolve: (s) => s.pool.createdAt }),
    pods: t.field({
      type: [PodRef],
      description: "Every pod with its slots, oldest first (Lost and Terminating pods stay a while for history).",
      complexity: { field: 5, multiplier: 20 },
      // `pool(name)` loads them with the summary; a list of pools loads them in one batch.
      resolve: (s, _a, ctx) => s.pods ?? podsLoader(ctx).load(s.pool.id),
    }),
    utilisation: t.field({
      type: PoolUtilisationRef,
      args: { range: t.arg({ type: UtilisationRangeRef, defaultValue: "HOUR" }) },
      complexity: { field: 30, multiplier: 1 },
      resolve: (s, args, ctx) => poolUtilisation(ctx.services.core, s.pool.id, args.range ?? "HOUR", ctx.services.config.utilisation.sampleSeconds),
    }),
    scalingEvents: t.field({
      type: [ScalingEventRef],
      args: { last: t.arg.int({ defaultValue: 50 }) },
      complexity: (args) => ({ field: 2, multiplier: Math.min(args.last ?? 50, 500) / 10 }),
      // Every pool of a list in one batch (per distinct `last`).
      resolve: (s, args, ctx) => scalingEventsLoader(ctx).load({ poolId: s.pool.id, last: args.last ?? 50 }),
    }),
  }),
});

const podsLoader = requestLoader<string, PodWithSlots[]>(async (poolIds, ctx) => {
  const byPool = await podsOfPools(ctx.services.core, poolIds);
  return poolIds.map((id) => byPool.get(id) ?? []);
});

const scalingEventsLoader = requestLoader<{ poolId: string; last: number }, ScalingEvent[]>(
  async (keys, ctx) => {
    // One pool (`pool(name)`): one plain statement.
    if (keys.length === 1) return [await listScalingEvents(ctx.services.core, keys[0]!.poolId, keys[0]!.last)];
    const byLast = new Map<number, Map<string, ScalingEvent[]>>();
    for (const last of new Set(keys.map((k) => k.last))) {
      byLast.set(last, await scalingEventsOfPools(ctx.services.core, keys.filter((k) => k.last === last).map((k) => k.poolId), last));
    }
    return keys.map((k) => byLast.get(k.last)?.get(k.poolId) ?? []);
  },
  (key) => `${key.poolId}:${key.last}`,
);

const CapacityWindowInput = builder.inputType("CapacityWindowInput", {
  fields: (t) => ({
    cron: t.string({ required: true, description: "5 fields, or 6 with seconds first: when each window starts." }),
    timeZone: t.string({ description: "IANA time zone of the cron expression; default UTC." }),
    durationSeconds: t.int({ required: true, description: "How long each window lasts, 60 s to 7 days." }),
    minPods: t.int({ description: "Pods kept warm in the window." }),
    maxPods: t.int({ description: "The pool may grow to this many pods in the window." }),
    blockScaleDown: t.boolean({ description: "No scale-down in the window." }),
    prewarmSeconds: t.int({ description: "Take effect this long before each start (0..3600, default 120), so pods are Ready by then." }),
  }),
});

const poolSpecFields = (t: PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<import("../builder.js").BerthSchemaTypes>, "InputObject">) => ({
  runtime: t.string({ description: 'local (default) or kubernetes.' }),
  namespace: t.string(),
  image: t.string(),
  podTemplate: t.field({ type: "JSON", description: "A Kubernetes pod spec to merge our labels and agent into." }),
  slotsPerPod: t.int({ description: "1..64, default 3." }),
  minPods: t.int(),
  maxPods: t.int(),
  scaleUpAt: t.float({ description: "Utilisation above which pods are added; default 0.8." }),
  scaleDownAt: t.float({ description: "Utilisation below which idle pods are removed; default 0.2." }),
  scaleUpCooldownSeconds: t.int(),
  scaleDownCooldownSeconds: t.int(),
  stabilizationWindowSeconds: t.int(),
  maxStep: t.int({ description: "At most this many pods removed per scale-down pass; default 2." }),
  scaleUpMaxStep: t.int({ description: "At most this many pods added per scale-up pass, 1..1000. Default and explicit null: what the pending queue needs, up to maxPods." }),
  maxTasksPerPod: t.int({ description: "Replace a pod (drain, then delete) once it started this many tasks; 1 makes one-task pods. Explicit null: no limit." }),
  maxPodAgeSeconds: t.int({ description: "Replace a pod (drain, then delete) once it is this old, 60 s to a year. Explicit null: no limit." }),
  capacityWindows: t.field({ type: [CapacityWindowInput], description: "Scheduled capacity, at most 20 windows; replaces the list ([] clears it)." }),
  newPodGraceSeconds: t.int({ description: "A new pod is not removed as idle before this." }),
  reservationTtlSeconds: t.int({ description: "How long an apply_pending task keeps its slot; default 86400." }),
  autoscale: t.boolean(),
  lostPodPolicy: t.string({ description: "fail (default) or requeue." }),
  maxAttempts: t.int({ description: "Attempts before a requeued task fails." }),
  taskTimeoutSeconds: t.int({ description: "Default run deadline of each task phase (plan, apply), 1 s to 7 days; default 3600. Explicit null: no deadline." }),
  timeoutPolicy: t.string({ description: "fail (default) or requeue: what a task past its deadline does (requeue within maxAttempts, plan phase only)." }),
  stopGraceSeconds: t.int({ description: "How long the slot of a cancelled or timed-out task stays held while its agent stops the work; default 30." }),
  taskTypes: t.field({
    type: [TaskTypeInput],
    description:
      "Task types the pool declares (at most 32): what its agents run. Null or empty: the built-in plan, apply and plan_and_apply. On the local runtime the commands run on the API's machine, so only an admin may set or change them.",
  }),
  maxReservedFraction: t.float({ description: "0..1, default 1 (no cap): beyond this share of the pool's slots reserved, new plan_and_apply tasks wait." }),
  podPolicyOverride: t.boolean({
    description:
      "Admin only: let the pod template break the pod policy (privileged or host-namespace pods, hostPath volumes, other service accounts, added capabilities, missing resource limits). Recorded as a policy_override event.",
  }),
});

const CreatePoolInput = builder.inputType("CreatePoolInput", {
  fields: (t) => ({ name: t.string({ required: true }), ...poolSpecFields(t) }),
});
const UpdatePoolInput = builder.inputType("UpdatePoolInput", { fields: (t) => poolSpecFields(t) });

const PodActionRef = builder.objectRef<{ pod: string; phase: string }>("PodAction").implement({
  description: "What a per-pod action left: the pod's phase after it (Cleared once a Lost pod is forgotten).",
  fields: (t) => ({ pod: t.exposeString("pod"), phase: t.exposeString("phase") }),
});

const ScaleResultRef = builder.objectRef<ScaleResult>("ScaleResult").implement({
  description: "What a manual scale did: busy pods are never removed.",
  fields: (t) => ({
    requested: t.exposeInt("requested"),
    applied: t.exposeInt("applied", { description: "Pods added or removed." }),
    blockedPods: t.exposeInt("blockedPods", { description: "Pods kept because a slot was running or reserved." }),
    podCount: t.exposeInt("podCount"),
  }),
});

builder.queryFields((t) => ({
  pools: t.field({
    type: [PoolRef],
    // Priced by what it returns (every pool, summarised): a list of 30 pools costs 30 times one.
    complexity: (_args, ctx) => ({ field: 10, multiplier: Math.max(ctx.services.listSizes.pools, 10) }),
    resolve: (_r, _a, ctx) => listPools(ctx.services.core),
  }),
  pool: t.field({
    type: PoolRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => findPoolSummary(ctx.services.core, args.name),
  }),
}));

builder.mutationFields((t) => ({
  createPool: t.field({
    type: PoolRef,
    errors: {},
    args: { input: t.arg({ type: CreatePoolInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const pool = await ctx.services.pools.createPool(input as PoolSpecInput, ctx.auth ?? undefined);
      return poolSummary(ctx.services.core, pool.name);
    },
  }),
  updatePool: t.field({
    type: PoolRef,
    errors: {},
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdatePoolInput, required: true }) },
    resolve: async (_r, args, ctx) => {
      const pool = await ctx.services.pools.updatePool(args.name, args.input as Partial<PoolSpecInput>, ctx.auth ?? undefined);
      return poolSummary(ctx.services.core, pool.name);
    },
  }),
  scalePool: t.field({
    type: ScaleResultRef,
    errors: {},
    args: { name: t.arg.string({ required: true }), pods: t.arg.int({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.pools.scalePool(args.name, args.pods, ctx.auth?.name),
  }),
  drainPod: t.field({
    type: PodActionRef,
    errors: {},
    description: "The pod takes no new work from now on and is deleted once every slot is idle (at once when it is); its work goes on until then.",
    args: { pool: t.arg.string({ required: true }), pod: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.pools.drainPod(args.pool, args.pod),
  }),
  deletePod: t.field({
    type: PodActionRef,
    errors: {},
    description: "Deletes an idle pod now (drain-then-delete); refused with a ConflictError while a slot is running or reserved.",
    args: { pool: t.arg.string({ required: true }), pod: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.pools.deletePod(args.pool, args.pod);
      return { pod: args.pod, phase: "Terminating" };
    },
  }),
  clearLostPod: t.field({
    type: PodActionRef,
    errors: {},
    description: "Forgets a Lost pod now instead of keeping it a while for history.",
    args: { pool: t.arg.string({ required: true }), pod: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.pools.clearLostPod(args.pool, args.pod);
      return { pod: args.pod, phase: "Cleared" };
    },
  }),
  deletePool: t.field({
    type: "Boolean",
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.pools.deletePool(args.name);
      return true;
    },
  }),
}));
