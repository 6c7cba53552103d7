import type { CoreContext } from "../context.js";
import type { ScheduleRun, Task } from "../db/index.js";
import { BerthError } from "../errors.js";
import { cancelTask, getTask, IdempotencyKeyReusedError, IllegalTransitionError, submitTask, TaskNotFoundError } from "../tasks/index.js";
import type { ScheduleRecord } from "./types.js";

/** The idempotency key of a fire time's task: a retried or repeated submission of it finds the first task. */
export const fireTimeKey = (scheduleId: string, fireAt: Date) => `schedule:${scheduleId}:${fireAt.getTime()}`;

/** A submitted task, to be linked to its run. */
export interface RunLink {
  runId: string;
  taskId: string;
  submittedAt: Date;
}

/** Cancels tasks of earlier runs (`cancel_other`); one that ended meanwhile is left as it is. */
export async function cancelEarlier(ctx: CoreContext, taskIds: readonly string[]): Promise<void> {
  for (const id of taskIds) {
    await cancelTask(ctx, id).catch((error: unknown) => {
      if (!(error instanceof IllegalTransitionError || error instanceof TaskNotFoundError)) throw error;
    });
  }
}

/**
 * Submits the task of a claimed (pending) run. The idempotency key makes this safe to repeat
 * from anywhere: a second call, on this replica or another, gets the same task. An expected
 * refusal (pool gone, payload refused) marks the run failed and gives null; anything else is
 * thrown and the run stays pending for the next pass.
 */
export async function submitRun(ctx: CoreContext, schedule: ScheduleRecord, run: Pick<ScheduleRun, "id" | "fireAt">): Promise<RunLink | null> {
  let task: Task;
  try {
    task = await submitTask(ctx, {
      pool: schedule.poolName,
      type: schedule.taskType,
      payload: schedule.payload,
      idempotencyKey: fireTimeKey(schedule.id, run.fireAt),
      // None set: the pool's default deadline applies (null would ask for no deadline at all).
      timeoutSeconds: schedule.timeoutSeconds ?? undefined,
      concurrencyKey: schedule.concurrencyKey,
    });
  } catch (error) {
    if (error instanceof IdempotencyKeyReusedError) {
      // Submitted before the schedule's type or payload changed: that task is this fire time's.
      task = await getTask(ctx, error.taskId);
    } else if (error instanceof BerthError) {
      await ctx.prisma.scheduleRun.updateMany({ where: { id: run.id, status: "pending" }, data: { status: "failed", note: error.message.slice(0, 2000), finishedAt: ctx.now() } });
      return null;
    } else {
      throw error;
    }
  }
  return { runId: run.id, taskId: task.id, submittedAt: ctx.now() };
}

/**
 * Links submitted tasks to their runs, in one statement for any number. A run that stopped
 * being pending meanwhile (superseded by cancel_other, recorded as missed) keeps no live task:
 * the one submitted for it is cancelled, and still linked, so history shows what happened.
 */
export async function linkRuns(ctx: CoreContext, links: readonly RunLink[]): Promise<void> {
  if (links.length === 0) return;
  const rows = JSON.stringify(links.map((l) => ({ id: l.runId, taskId: l.taskId, at: l.submittedAt.toISOString() })));
  const linked = await ctx.prisma.$queryRaw<{ id: string }[]>`
    UPDATE "ScheduleRun" r SET status = 'submitted', "taskId" = q."taskId", "submittedAt" = q.at
    FROM jsonb_to_recordset(${rows}::jsonb) AS q(id uuid, "taskId" uuid, at timestamp(3))
    WHERE r.id = q.id AND (r.status = 'pending' OR (r.status = 'submitted' AND r."taskId" = q."taskId"))
    RETURNING r.id`;
  const done = new Set(linked.map((r) => r.id));
  const orphaned = links.filter((l) => !done.has(l.runId));
  if (orphaned.length === 0) return;
  await cancelEarlier(
    ctx,
    orphaned.map((l) => l.taskId),
  );
  for (const l of orphaned) await ctx.prisma.scheduleRun.updateMany({ where: { id: l.runId, taskId: null }, data: { taskId: l.taskId } });
}
