import type { CoreContext } from "../context.js";
import { retryOnConflict, type Prisma, type Task, type TaskStatus } from "../db/index.js";
import { ValidationError } from "../errors.js";
import { checkTaskType } from "../pools/task-types.js";
import { placePending } from "../slots/allocate.js";
import { publishSlotChange, releaseSlotOf, type ReleasedSlot } from "../slots/release.js";
import { observeRun } from "./metrics.js";
import { submitSuperseding, validateConcurrency } from "./concurrency.js";
import { IdempotencyKeyReusedError, IllegalTransitionError, PayloadTooLargeError, PoolNotFoundError, TaskNotFoundError, TaskNotInScopeError, TaskNotOnPodError } from "./errors.js";

export const MAX_PAYLOAD_BYTES = 64 * 1024;
const TERMINAL: TaskStatus[] = ["succeeded", "failed", "cancelled", "expired"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isTerminal = (s: TaskStatus) => TERMINAL.includes(s);

export interface SubmitTaskInput {
  pool: string;
  type: string;
  payload?: unknown;
  /**
   * Makes a retried submission safe: while the first task with this key exists in the pool,
   * submitting again with the same type and payload returns it instead of creating another.
   */
  idempotencyKey?: string | null;
  /**
   * Run deadline of each phase (plan, apply) in seconds. Absent: the pool's `taskTimeoutSeconds`;
   * null: no deadline (an explicit choice).
   */
  timeoutSeconds?: number | null;
  /**
   * Tasks of the pool sharing this key run one at a time, in submission order (a plan waiting
   * for approval holds it too); other keys are not held up. Schedules pass theirs on.
   */
  concurrencyKey?: string | null;
  /** With a concurrencyKey: cancels the key's tasks that have not started yet (reason `superseded`) and queues this one. */
  supersede?: boolean;
}

/** The longest run deadline a task may ask for: 7 days. */
export const MAX_TIMEOUT_SECONDS = 7 * 86_400;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** JSON with object keys sorted, so that payloads equal as values compare equal as text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The task an earlier submission with `key` created, if it asked for the same thing; throws if it asked for something else. */
async function earlierSubmission(ctx: CoreContext, poolId: string, key: string, type: string, payload: unknown): Promise<Task | null> {
  const earlier = await ctx.prisma.task.findUnique({ where: { poolId_idempotencyKey: { poolId, idempotencyKey: key } } });
  if (!earlier) return null;
  if (earlier.type !== type || canonicalJson(earlier.payload) !== canonicalJson(payload)) throw new IdempotencyKeyReusedError(key, earlier.id);
  return earlier;
}

function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? {}), "utf8");
}

/** Submits a task to a pool; it runs at once when a slot is free, else stays pending. */
export async function submitTask(ctx: CoreContext, input: SubmitTaskInput, limits = { maxPayloadBytes: MAX_PAYLOAD_BYTES }): Promise<Task> {
  const type = input.type.trim();
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(type)) {
    throw new ValidationError("type", "type must be 1-64 characters of letters, digits, _ . : -");
  }
  const payload = input.payload ?? {};
  const size = jsonSize(payload);
  if (size > limits.maxPayloadBytes) throw new PayloadTooLargeError(size, limits.maxPayloadBytes);
  const key = input.idempotencyKey ?? null;
  if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError("idempotencyKey", "idempotencyKey must be 1-128 printable ASCII characters without spaces");
  }
  if (input.timeoutSeconds != null && (!Number.isInteger(input.timeoutSeconds) || input.timeoutSeconds < 1 || input.timeoutSeconds > MAX_TIMEOUT_SECONDS)) {
    throw new ValidationError("timeoutSeconds", `timeoutSeconds must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, or null for no deadline`);
  }
  const concurrency = validateConcurrency(input);
  const pool = await ctx.prisma.pool.findUnique({ where: { name: input.pool }, select: { id: true, name: true, taskTimeoutSeconds: true, taskTypes: true } });
  if (!pool) throw new PoolNotFoundError(input.pool);
  checkTaskType(pool, type);
  const timeoutSeconds = input.timeoutSeconds === undefined ? pool.taskTimeoutSeconds : input.timeoutSeconds;
  if (key !== null) {
    const earlier = await earlierSubmission(ctx, pool.id, key, type, payload);
    if (earlier) return earlier;
  }
  let task: Task;
  try {
    const data = { poolId: pool.id, type, payload: payload as Prisma.InputJsonValue, idempotencyKey: key, timeoutSeconds, concurrencyKey: concurrency.key };
    task = concurrency.supersede ? await submitSuperseding(ctx, data) : await ctx.prisma.task.create({ data });
  } catch (error) {
    // A concurrent submission with the same key won the insert: answer as a retry would be.
    const earlier = key !== null && (error as { code?: string }).code === "P2002" ? await earlierSubmission(ctx, pool.id, key, type, payload) : null;
    if (earlier) return earlier;
    throw error;
  }
  // The task exists now: a failed placement must not tell the client it was not submitted (a
  // retry would submit it twice). It stays pending; the next release or reconcile places it.
  const placed = await placePending(ctx, pool, 10).catch(() => []);
  if (placed.some((p) => p.taskId === task.id)) return (await ctx.prisma.task.findUnique({ where: { id: task.id } })) ?? task;
  // No free slot: the pool's controller (on whichever replica) runs its pass now rather than at
  // its next timer, so that pods for this work start within one pass of the submit.
  await ctx.events.publish("poolDemand", { poolId: pool.id, at: ctx.now().toISOString() }).catch(() => {});
  return task;
}

export async function getTask(ctx: CoreContext, id: string): Promise<Task> {
  const task = UUID.test(id) ? await ctx.prisma.task.findUnique({ where: { id } }) : null;
  if (!task) throw new TaskNotFoundError(id);
  return task;
}

/** Tasks by id (batched: one query for any number). */
export async function tasksByIds(ctx: CoreContext, ids: readonly string[]): Promise<Map<string, Task>> {
  const valid = ids.filter((id) => UUID.test(id));
  const tasks = valid.length ? await ctx.prisma.task.findMany({ where: { id: { in: valid } } }) : [];
  return new Map(tasks.map((t) => [t.id, t]));
}

export async function listTasks(
  ctx: CoreContext,
  filter: { pool?: string; status?: string[]; first?: number },
): Promise<Task[]> {
  const statuses = filter.status?.filter((s): s is TaskStatus => isTaskStatus(s));
  if (filter.status && statuses && statuses.length !== filter.status.length) {
    throw new ValidationError("status", `status must be one of ${ALL_STATUSES.join(", ")}`);
  }
  return ctx.prisma.task.findMany({
    where: {
      ...(filter.pool ? { pool: { name: filter.pool } } : {}),
      ...(statuses ? { status: { in: statuses } } : {}),
    },
    orderBy: { seq: "desc" },
    take: Math.min(Math.max(filter.first ?? 50, 1), 500),
  });
}

export const ALL_STATUSES: TaskStatus[] = ["pending", "running", "apply_pending", "applying", "succeeded", "failed", "cancelled", "expired"];
export const isTaskStatus = (s: string): s is TaskStatus => (ALL_STATUSES as string[]).includes(s);

/** What a transition changed beyond its rows: slot events to publish, and the agent to tell. */
type Effects = {
  released?: ReleasedSlot;
  slotState?: { slot: ReleasedSlot; state: "running" | "reserved" };
  /** The agent of the pod the task was on gets an assignment event (apply it, or stop it). */
  assignment?: { action: "apply" | "cancel"; pod: string; slotIndex: number };
};

/** Where to tell the agent, for a task that sits (or sat, before this transition) on a slot. */
const tellAgent = (task: Pick<Task, "podName" | "slotIndex">, action: "apply" | "cancel"): Pick<Effects, "assignment"> =>
  task.podName !== null && task.slotIndex !== null ? { assignment: { action, pod: task.podName, slotIndex: task.slotIndex } } : {};

/**
 * Runs one transition under a row lock on the task, then publishes its events and, when a
 * slot was freed, places the pool's pending tasks.
 */
async function transition(
  ctx: CoreContext,
  taskId: string,
  apply: (tx: Prisma.TransactionClient, task: Task) => Promise<{ task: Task; effects: Effects }>,
): Promise<Task> {
  if (!UUID.test(taskId)) throw new TaskNotFoundError(taskId);
  // Lock order (crash_only_core migration): the task first, then the slot it holds.
  const { task, effects } = await retryOnConflict(() =>
    ctx.prisma.$transaction(async (tx) => {
      const [current] = await tx.$queryRawUnsafe<Task[]>(`SELECT * FROM "Task" WHERE id = $1::uuid FOR UPDATE`, taskId);
      if (!current) throw new TaskNotFoundError(taskId);
      return apply(tx, current);
    }),
  );
  return afterTransition(ctx, task, effects);
}

/** Publishes a transition's events and, when a slot was freed, places a pending task on it. */
async function afterTransition(ctx: CoreContext, task: Task, effects: Effects, placeNext = true): Promise<Task> {
  if (effects.released) await publishSlotChange(ctx, effects.released, "idle", null);
  if (effects.slotState) await publishSlotChange(ctx, effects.slotState.slot, effects.slotState.state, task.id);
  if (effects.assignment) {
    const { pod, slotIndex, action } = effects.assignment;
    await ctx.events.publish(`assignment:${pod}`, { pod, slotIndex, taskId: task.id, action });
  }
  // One slot came free, so at most one pending task can take it; the reconcile pass places any others.
  if (effects.released && placeNext) await placePending(ctx, { id: task.poolId, name: effects.released.pool }, 1);
  return task;
}

async function slotOf(tx: Prisma.TransactionClient, taskId: string): Promise<ReleasedSlot | null> {
  const rows = await tx.$queryRawUnsafe<ReleasedSlot[]>(
    `SELECT pl.name AS pool, p.name AS pod, s.index FROM "Slot" s JOIN "Pod" p ON p.id = s."podId" JOIN "Pool" pl ON pl.id = p."poolId" WHERE s."taskId" = $1::uuid`,
    taskId,
  );
  return rows[0] ?? null;
}

export type ReportStatus = "running" | "apply_pending" | "succeeded" | "failed" | "stopped";
const REPORT_STATUSES: ReportStatus[] = ["running", "apply_pending", "succeeded", "failed", "stopped"];

export interface ReportTaskInput {
  taskId: string;
  /** The pod the reporting agent runs in; when given, the task must be placed there. */
  pod?: string | null;
  /** The pool an agent token is limited to; a task of another pool is refused. */
  scopePoolId?: string | null;
  status: string;
  output?: unknown;
  /**
   * Why a task the agent reports `failed` failed, kept as its `failureReason`: `deadline_exceeded`
   * (the type's timeoutSeconds passed), `plan_workdir_missing`, `command_failed`.
   */
  reason?: string | null;
}

export const AGENT_FAILURE_REASONS = ["deadline_exceeded", "plan_workdir_missing", "command_failed"] as const;

/** The task's slot is held for its agent to stop the work; the agent's report or sync frees it. */
export const isStopping = (task: Pick<Task, "status" | "stopRequestedAt">) => isTerminal(task.status) && task.stopRequestedAt !== null;

/**
 * An agent reports progress on a task placed on its pod. Repeating a report is harmless.
 * `running` also tells the server the agent runs the current phase (so a cancel waits for it to
 * stop); `stopped` says the agent no longer works on the task: it confirms a stop the server
 * asked for, or gives the task up (it then fails, or is requeued under the pool's lost-pod policy).
 */
export async function reportTask(ctx: CoreContext, input: ReportTaskInput): Promise<Task> {
  const status = input.status as ReportStatus;
  if (!REPORT_STATUSES.includes(status)) {
    throw new ValidationError("status", `status must be one of ${REPORT_STATUSES.join(", ")}`);
  }
  if (input.output !== undefined && jsonSize(input.output) > MAX_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(jsonSize(input.output), MAX_PAYLOAD_BYTES);
  }
  if (input.reason != null && (status !== "failed" || !(AGENT_FAILURE_REASONS as readonly string[]).includes(input.reason))) {
    throw new ValidationError("reason", `reason is given with status failed only, and is one of ${AGENT_FAILURE_REASONS.join(", ")}`);
  }
  if ((status === "succeeded" || status === "failed") && UUID.test(input.taskId)) {
    const finished = await finishRunningTask(ctx, { ...input, status });
    if (finished) return finished;
  }
  return transition(ctx, input.taskId, async (tx, task) => {
    if (input.scopePoolId && task.poolId !== input.scopePoolId) throw new TaskNotInScopeError(task.id);
    if (input.pod != null && task.podName !== input.pod) throw new TaskNotOnPodError(task.id, input.pod);
    if (task.podName === null) throw new IllegalTransitionError(task.id, task.status, status);
    const now = ctx.now();
    const output = input.output === undefined ? undefined : (input.output as Prisma.InputJsonValue);
    // The server ended this task while the agent ran it: any report of an end is the agent's confirmation.
    if (isStopping(task) && status !== "running" && status !== "apply_pending") return confirmStop(tx, task, "stopped by its agent");
    switch (status) {
      case "running":
        if (task.status === "running" || task.status === "applying") {
          if (task.acknowledgedAt !== null) return { task, effects: {} };
          return { task: await tx.task.update({ where: { id: task.id }, data: { acknowledgedAt: now } }), effects: {} };
        }
        // The server ended it meanwhile: the agent learns at its next sync (the task is in its `stop` list).
        if (isStopping(task)) return { task, effects: {} };
        break;
      case "apply_pending": {
        if (task.status === "apply_pending") return { task, effects: {} };
        if (task.status !== "running") break;
        const pool = await tx.pool.findUniqueOrThrow({ where: { id: task.poolId }, select: { reservationTtlSeconds: true } });
        const reservedUntil = new Date(now.getTime() + pool.reservationTtlSeconds * 1000);
        const slot = await slotOf(tx, task.id);
        await tx.slot.updateMany({ where: { taskId: task.id, state: "running" }, data: { state: "reserved", reservedUntil, updatedAt: now } });
        // Waiting for a person has no run deadline: the reservation's expiry bounds it.
        const updated = await tx.task.update({ where: { id: task.id }, data: { status: "apply_pending", planReadyAt: now, output, deadlineAt: null } });
        if (slot) observeRun(updated, slot.pool);
        return { task: updated, effects: slot ? { slotState: { slot, state: "reserved" } } : {} };
      }
      case "succeeded":
      case "failed": {
        if (task.status === status) return { task, effects: {} };
        if (task.status !== "running" && task.status !== "applying") break;
        // It became running since the one-statement attempt: the same statement, under this row lock.
        const ended = await endRunningTask(tx, ctx, { ...input, status });
        if (!ended) break;
        return { task: ended.task, effects: ended.released ? { released: ended.released } : {} };
      }
      case "stopped": {
        if (isTerminal(task.status)) return { task, effects: {} };
        if (task.status !== "running" && task.status !== "applying") break;
        return giveUp(tx, ctx, task, "agent_stopped", `the agent on pod ${task.podName} stopped the task before it ended`);
      }
    }
    throw new IllegalTransitionError(task.id, task.status, status);
  });
}

/** The common end of a task in one round trip: `berth_finish_task` (slot_functions migration). */
const FINISH_RUNNING = `
SELECT (f.task).*, f."freedPod", f."freedIndex", f."freedPool"
FROM berth_finish_task($1::uuid, $2::"TaskStatus", $3::timestamp(3), $4::jsonb, $5, $6, $7::uuid) f`;

type FinishedRow = Task & { freedPod: string | null; freedIndex: number | null; freedPool: string | null };

/**
 * `reportTask` for a task that ends, in one statement when the task is running or applying
 * on the reporting pod; null otherwise (`reportTask` then answers with the full rules).
 * `placeNext: false` leaves the freed slot for the caller to fill.
 */
export async function finishRunningTask(
  ctx: CoreContext,
  input: ReportTaskInput & { status: "succeeded" | "failed" },
  { placeNext = true } = {},
): Promise<Task | null> {
  const ended = await endRunningTask(ctx.prisma, ctx, input);
  return ended && afterTransition(ctx, ended.task, ended.released ? { released: ended.released } : {}, placeNext);
}

/** Records the agent's reason on a task it just failed (berth_finish_task leaves failureReason alone). */
async function recordFailureReason(db: Pick<Prisma.TransactionClient, "task">, task: Task, reason: string | null | undefined): Promise<Task> {
  if (!reason || task.status !== "failed") return task;
  await db.task.updateMany({ where: { id: task.id, status: "failed", failureReason: null }, data: { failureReason: reason } });
  return { ...task, failureReason: reason };
}

/** Runs `berth_finish_task` on `db` (the client, or the caller's transaction): the ended task and the slot it freed, or null. */
async function endRunningTask(
  db: Pick<Prisma.TransactionClient, "$queryRawUnsafe" | "task">,
  ctx: CoreContext,
  input: ReportTaskInput & { status: "succeeded" | "failed" },
): Promise<{ task: Task; released?: ReleasedSlot } | null> {
  const output = input.output === undefined ? null : JSON.stringify(input.output);
  const error = input.status === "failed" ? errorText(input.output) : null;
  const [row] = await db.$queryRawUnsafe<FinishedRow[]>(FINISH_RUNNING, input.taskId, input.status, ctx.now(), output, error, input.pod ?? null, input.scopePoolId ?? null);
  if (!row) return null;
  const { freedPod, freedIndex, freedPool, ...finished } = row;
  const task = await recordFailureReason(db, finished, input.reason);
  if (freedPool !== null) observeRun(task, freedPool);
  return { task, released: freedPod !== null && freedIndex !== null && freedPool !== null ? { pod: freedPod, index: freedIndex, pool: freedPool } : undefined };
}

function errorText(output: unknown): string {
  if (output && typeof output === "object" && "error" in output) return String((output as { error: unknown }).error).slice(0, 2000);
  return "the task failed";
}

/** The agent confirmed that a task the server ended no longer runs: its held slot is freed. */
async function confirmStop(tx: Prisma.TransactionClient, task: Task, note: string): Promise<{ task: Task; effects: Effects }> {
  const released = await releaseSlotOf(tx, task.id, note);
  if (!released) return { task, effects: {} };
  const updated = await tx.task.update({ where: { id: task.id }, data: { stopRequestedAt: null } });
  return { task: updated, effects: { released } };
}

/**
 * Ends a running or applying task from the server's side (cancel, deadline, an agent giving it
 * up). When its agent has confirmed it runs the current phase, the slot stays held (still
 * `running`) until the agent confirms it stopped or the pool's stopGraceSeconds pass, so a new
 * task never lands beside work that is still being stopped; otherwise it is freed at once.
 */
async function endByServer(
  tx: Prisma.TransactionClient,
  ctx: CoreContext,
  task: Task,
  end: { status: "cancelled" | "failed"; reason: string; error: string | null },
): Promise<{ task: Task; effects: Effects }> {
  const now = ctx.now();
  const running = task.status === "running" || task.status === "applying";
  const hold = running && task.acknowledgedAt !== null;
  const released = hold ? null : await releaseSlotOf(tx, task.id, end.reason);
  const updated = await tx.task.update({
    where: { id: task.id },
    data: { status: end.status, finishedAt: now, failureReason: end.reason, error: end.error, stopRequestedAt: hold ? now : null },
  });
  // Tell the agent (it also learns from its next sync: the task is then in its `stop` list).
  const tell = running || task.status === "apply_pending" ? tellAgent(task, "cancel") : {};
  return { task: updated, effects: { ...(released ? { released } : {}), ...tell } };
}

/**
 * A running task that will not end by its agent's report (its deadline passed, or its agent gave
 * it up): requeued when `policy` is `requeue`, it is still in its plan phase and attempts remain;
 * failed with `reason` otherwise.
 */
async function giveUp(
  tx: Prisma.TransactionClient,
  ctx: CoreContext,
  task: Task,
  reason: string,
  message: string,
  policy?: string,
): Promise<{ task: Task; effects: Effects }> {
  const pool = await tx.pool.findUniqueOrThrow({ where: { id: task.poolId }, select: { lostPodPolicy: true, maxAttempts: true } });
  const requeue = (policy ?? pool.lostPodPolicy) === "requeue" && task.status === "running" && task.attempts < pool.maxAttempts;
  if (!requeue) return endByServer(tx, ctx, task, { status: "failed", reason, error: `${reason}: ${message}` });
  // Requeued work gets a new slot, so the old one is freed at once; its agent is told to stop.
  const released = await releaseSlotOf(tx, task.id, `${reason}; requeued`);
  const updated = await tx.task.update({
    where: { id: task.id },
    data: { status: "pending", podName: null, slotIndex: null, startedAt: null, deadlineAt: null, acknowledgedAt: null, stopRequestedAt: null },
  });
  return { task: updated, effects: { ...(released ? { released } : {}), ...tellAgent(task, "cancel") } };
}

/** Who reviews a plan, and what they say about it (kept on the task). */
export interface Review {
  /** The reviewer's token name. */
  by: string;
  comment?: string | null;
}

export const MAX_REVIEW_COMMENT = 2000;

function reviewFields(review: Review | undefined, verdict: "approved" | "rejected", now: Date) {
  if (!review) return {};
  const comment = review.comment?.trim() || null;
  return { reviewedBy: review.by.slice(0, 200), reviewedAt: now, reviewVerdict: verdict, reviewComment: comment };
}

function checkComment(review: Review | undefined) {
  if (review?.comment && review.comment.length > MAX_REVIEW_COMMENT) {
    throw new ValidationError("comment", `comment must be at most ${MAX_REVIEW_COMMENT} characters`);
  }
}

/** Approves the plan of an apply_pending task: the apply runs on the same pod and slot, with a fresh run deadline. */
export async function approveTask(ctx: CoreContext, id: string, review?: Review): Promise<Task> {
  checkComment(review);
  return transition(ctx, id, async (tx, task) => {
    if (task.status === "applying") return { task, effects: {} };
    if (task.status !== "apply_pending") throw new IllegalTransitionError(task.id, task.status, "applying");
    const now = ctx.now();
    const slot = await slotOf(tx, task.id);
    const moved = await tx.slot.updateMany({ where: { taskId: task.id, state: "reserved" }, data: { state: "running", reservedUntil: null, updatedAt: now } });
    if (moved.count !== 1 || !slot) throw new IllegalTransitionError(task.id, "apply_pending without a reserved slot", "applying");
    const deadlineAt = task.timeoutSeconds === null ? null : new Date(now.getTime() + task.timeoutSeconds * 1000);
    const updated = await tx.task.update({
      where: { id: task.id },
      data: { status: "applying", approvedAt: now, deadlineAt, acknowledgedAt: null, ...reviewFields(review, "approved", now) },
    });
    return { task: updated, effects: { slotState: { slot, state: "running" }, ...tellAgent(updated, "apply") } };
  });
}

/**
 * Rejects the plan of an apply_pending task: it ends `cancelled` (failureReason `rejected`)
 * without applying, and its reserved slot is freed at once. Rejecting it again is harmless.
 */
export async function rejectTask(ctx: CoreContext, id: string, review: Review): Promise<Task> {
  checkComment(review);
  return transition(ctx, id, async (tx, task) => {
    if (task.status === "cancelled" && task.reviewVerdict === "rejected") return { task, effects: {} };
    if (task.status !== "apply_pending") throw new IllegalTransitionError(task.id, task.status, "rejected");
    const ended = await endByServer(tx, ctx, task, { status: "cancelled", reason: "rejected", error: null });
    const updated = await tx.task.update({ where: { id: task.id }, data: reviewFields(review, "rejected", ctx.now()) });
    return { task: updated, effects: ended.effects };
  });
}

/**
 * Cancels a task in any non-final state. A pending task or a plan waiting for approval frees
 * its slot at once; a running one keeps its slot while its agent stops the work (see endByServer).
 */
export async function cancelTask(ctx: CoreContext, id: string): Promise<Task> {
  return transition(ctx, id, async (tx, task) => {
    if (task.status === "cancelled") return { task, effects: {} };
    if (isTerminal(task.status)) throw new IllegalTransitionError(task.id, task.status, "cancelled");
    return endByServer(tx, ctx, task, { status: "cancelled", reason: "cancelled", error: null });
  });
}

/**
 * Ends every running or applying task of the pool (or of every pool) past its run deadline:
 * failed with `deadline_exceeded`, or requeued under the pool's timeoutPolicy. Returns their ids.
 */
export async function enforceDeadlines(ctx: CoreContext, poolId?: string): Promise<string[]> {
  const now = ctx.now();
  const due = await ctx.prisma.task.findMany({
    where: { status: { in: ["running", "applying"] }, deadlineAt: { lt: now }, ...(poolId ? { poolId } : {}) },
    select: { id: true },
    orderBy: { deadlineAt: "asc" },
    take: 1000,
  });
  const ended: string[] = [];
  for (const { id } of due) {
    let changed = false;
    await transition(ctx, id, async (tx, task) => {
      if ((task.status !== "running" && task.status !== "applying") || !task.deadlineAt || task.deadlineAt >= now) return { task, effects: {} };
      changed = true;
      const pool = await tx.pool.findUniqueOrThrow({ where: { id: task.poolId }, select: { timeoutPolicy: true } });
      const ranFor = task.timeoutSeconds === null ? "" : ` (${task.timeoutSeconds} s)`;
      return giveUp(tx, ctx, task, "deadline_exceeded", `the task ran past its deadline${ranFor}`, pool.timeoutPolicy);
    });
    if (changed) ended.push(id);
  }
  return ended;
}

/**
 * The agent of `pod` no longer runs `taskId`, which the server ended: its held slot is freed.
 * Nothing happens for a task that is not held on that pod.
 */
export async function confirmStopped(ctx: CoreContext, taskId: string, pod: string): Promise<void> {
  await transition(ctx, taskId, async (tx, task) => {
    if (!isStopping(task) || task.podName !== pod) return { task, effects: {} };
    return confirmStop(tx, task, "stopped by its agent");
  });
}

/**
 * Frees every reservation past its `reservedUntil`: the task becomes `expired`, the slot idle.
 * Returns the expired tasks, per pool, for the scaling-event record.
 */
export async function expireReservations(ctx: CoreContext, poolId?: string): Promise<{ taskId: string; poolId: string }[]> {
  const now = ctx.now();
  const due = await ctx.prisma.slot.findMany({
    where: { state: "reserved", reservedUntil: { lt: now }, ...(poolId ? { pod: { poolId } } : {}) },
    select: { taskId: true },
  });
  const expired: { taskId: string; poolId: string }[] = [];
  for (const { taskId } of due) {
    if (!taskId) continue;
    let changed = false;
    const task = await transition(ctx, taskId, async (tx, t) => {
      if (t.status !== "apply_pending") return { task: t, effects: {} };
      const slot = await tx.slot.findUnique({ where: { taskId: t.id }, select: { reservedUntil: true } });
      if (!slot?.reservedUntil || slot.reservedUntil >= now) return { task: t, effects: {} };
      changed = true;
      const released = await releaseSlotOf(tx, t.id, "reservation expired");
      const updated = await tx.task.update({
        where: { id: t.id },
        data: { status: "expired", finishedAt: now, failureReason: "reservation_expired", error: "the plan was not approved before its reservation expired" },
      });
      return { task: updated, effects: released ? { released, ...tellAgent(t, "cancel") } : {} };
    });
    if (changed) expired.push({ taskId, poolId: task.poolId });
  }
  return expired;
}
