import type { CoreContext } from "../context.js";
import type { ScheduleRun, Task } from "../db/index.js";
import { BerthError } from "../errors.js";
import { cancelTask, getTask, IdempotencyKeyReusedError, IllegalTransitionError, submitTask, TaskNotFoundError } from "../tasks/index.js";
import type { ScheduleRecord } from "./types.js";

/** The idempotency key of a fire time's task: a retried or repeated submission of it finds the first task. */
export const fireTimeKey = (scheduleId: string, fireAt: Date) => `schedule:${scheduleId}:${fireAt.getTime()}`;

/** Cancels tasks of earlier runs (`cancel_other`); one that ended meanwhile is left as it is. */
export async function cancelEarlier(ctx: CoreContext, taskIds: readonly string[]): Promise<void> {
  for (const id of taskIds) {
    await cancelTask(ctx, id).catch((error: unknown) => {
      if (!(error instanceof IllegalTransitionError || error instanceof TaskNotFoundError)) throw error;
    });
  }
}

/**
 * Submits the task of a claimed (pending) run and links it. The idempotency key makes this
 * safe to repeat from anywhere: a second call, on this replica or another, gets the same task.
 * A run that stopped being pending meanwhile (superseded, recorded as missed) keeps no live
 * task: the one just submitted is cancelled. An expected refusal (pool gone, payload refused)
 * marks the run failed; anything else is thrown and the run stays pending for the next pass.
 */
export async function submitRun(ctx: CoreContext, schedule: ScheduleRecord, run: Pick<ScheduleRun, "id" | "fireAt">): Promise<void> {
  let task: Task;
  try {
    task = await submitTask(ctx, {
      pool: schedule.poolName,
      type: schedule.taskType,
      payload: schedule.payload,
      idempotencyKey: fireTimeKey(schedule.id, run.fireAt),
      timeoutSeconds: schedule.timeoutSeconds,
      concurrencyKey: schedule.concurrencyKey,
    });
  } catch (error) {
    if (error instanceof IdempotencyKeyReusedError) {
      // Submitted before the schedule's type or payload changed: that task is this fire time's.
      task = await getTask(ctx, error.taskId);
    } else if (error instanceof BerthError) {
      await ctx.prisma.scheduleRun.updateMany({ where: { id: run.id, status: "pending" }, data: { status: "failed", note: error.message.slice(0, 2000), finishedAt: ctx.now() } });
      return;
    } else {
      throw error;
    }
  }
  const linked = await ctx.prisma.scheduleRun.updateMany({
    where: { id: run.id, OR: [{ status: "pending" }, { status: "submitted", taskId: task.id }] },
    data: { status: "submitted", taskId: task.id, submittedAt: ctx.now() },
  });
  if (linked.count === 0) {
    await cancelEarlier(ctx, [task.id]);
    await ctx.prisma.scheduleRun.updateMany({ where: { id: run.id, taskId: null }, data: { taskId: task.id } });
  }
}
