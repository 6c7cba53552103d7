import type { CoreContext } from "../context.js";
import type { Schedule, TaskStatus } from "../db/index.js";

/** How a task's end counts toward "pause after N consecutive failures". */
function countFailures(current: number, outcomes: readonly TaskStatus[]): number {
  let n = current;
  for (const outcome of outcomes) {
    if (outcome === "succeeded") n = 0;
    else if (outcome === "failed" || outcome === "expired") n++;
    // cancelled: a person or cancel_other stopped it; it says nothing about the work.
  }
  return n;
}

/**
 * Follows submitted runs to their task's end: writes each run's outcome once, keeps the
 * schedule's count of consecutive failures (in fire-time order), and pauses a schedule that
 * reaches its `pauseAfterFailures`, with a note saying so. Returns how many outcomes it wrote.
 * Lock order as in claimFires: Schedule row, then its runs; Task rows are only read.
 */
export async function recordOutcomes(ctx: CoreContext): Promise<number> {
  const due = await ctx.prisma.$queryRaw<{ scheduleId: string }[]>`
    SELECT DISTINCT r."scheduleId" FROM "ScheduleRun" r JOIN "Task" t ON t.id = r."taskId"
    WHERE r.status = 'submitted' AND r.outcome IS NULL AND t.status IN ('succeeded', 'failed', 'cancelled', 'expired')`;
  let written = 0;
  for (const { scheduleId } of due) {
    written += await ctx.prisma.$transaction(async (tx) => {
      const [schedule] = await tx.$queryRaw<Schedule[]>`SELECT * FROM "Schedule" WHERE id = ${scheduleId}::uuid FOR UPDATE`;
      if (!schedule) return 0;
      const ended = await tx.$queryRaw<{ fireAt: Date; outcome: TaskStatus }[]>`
        UPDATE "ScheduleRun" r SET outcome = t.status, "finishedAt" = COALESCE(t."finishedAt", ${ctx.now()})
        FROM "Task" t
        WHERE r."scheduleId" = ${scheduleId}::uuid AND t.id = r."taskId" AND r.status = 'submitted' AND r.outcome IS NULL
          AND t.status IN ('succeeded', 'failed', 'cancelled', 'expired')
        RETURNING r."fireAt", r.outcome`;
      if (ended.length === 0) return 0;
      ended.sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime());
      const failures = countFailures(schedule.consecutiveFailures, ended.map((e) => e.outcome));
      const pause = !schedule.paused && schedule.pauseAfterFailures !== null && failures >= schedule.pauseAfterFailures;
      if (failures !== schedule.consecutiveFailures || pause) {
        await tx.schedule.update({
          where: { id: scheduleId },
          data: {
            consecutiveFailures: failures,
            ...(pause && { paused: true, pausedBy: "berth", pauseNote: `paused after ${failures} consecutive failed runs`, pausedAt: ctx.now() }),
          },
        });
      }
      return ended.length;
    });
  }
  return written;
}
