-- CreateEnum
CREATE TYPE "ScheduleRunStatus" AS ENUM ('pending', 'submitted', 'buffered', 'skipped', 'missed', 'failed');

-- CreateTable
CREATE TABLE "Schedule" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "poolId" UUID NOT NULL,
    "taskType" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "concurrencyKey" TEXT,
    "timeoutSeconds" INTEGER,
    "overlap" TEXT NOT NULL DEFAULT 'skip',
    "catchupWindowSeconds" INTEGER NOT NULL DEFAULT 60,
    "jitterSeconds" INTEGER NOT NULL DEFAULT 0,
    "startAt" TIMESTAMP(3),
    "endAt" TIMESTAMP(3),
    "maxRuns" INTEGER,
    "runCount" INTEGER NOT NULL DEFAULT 0,
    "pauseAfterFailures" INTEGER,
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "pausedBy" TEXT,
    "pauseNote" TEXT,
    "pausedAt" TIMESTAMP(3),
    "servedUntil" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScheduleRun" (
    "id" UUID NOT NULL,
    "scheduleId" UUID NOT NULL,
    "fireAt" TIMESTAMP(3) NOT NULL,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" "ScheduleRunStatus" NOT NULL,
    "taskId" UUID,
    "outcome" "TaskStatus",
    "replica" TEXT NOT NULL,
    "fencingToken" TEXT,
    "note" TEXT,
    "claimedAt" TIMESTAMP(3) NOT NULL,
    "submittedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ScheduleRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Schedule_name_key" ON "Schedule"("name");

-- CreateIndex
CREATE INDEX "Schedule_poolId_idx" ON "Schedule"("poolId");

-- CreateIndex
CREATE INDEX "ScheduleRun_scheduleId_status_idx" ON "ScheduleRun"("scheduleId", "status");

-- CreateIndex
CREATE INDEX "ScheduleRun_status_outcome_idx" ON "ScheduleRun"("status", "outcome");

-- CreateIndex
CREATE INDEX "ScheduleRun_taskId_idx" ON "ScheduleRun"("taskId");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduleRun_scheduleId_fireAt_key" ON "ScheduleRun"("scheduleId", "fireAt");

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScheduleRun" ADD CONSTRAINT "ScheduleRun_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScheduleRun" ADD CONSTRAINT "ScheduleRun_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE SET NULL ON UPDATE CASCADE;
