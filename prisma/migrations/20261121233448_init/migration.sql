-- CreateEnum
CREATE TYPE "PodPhase" AS ENUM ('Pending', 'Starting', 'Ready', 'Draining', 'Terminating', 'Lost');

-- CreateEnum
CREATE TYPE "SlotState" AS ENUM ('idle', 'running', 'reserved');

-- CreateEnum
CREATE TYPE "TaskStatus" AS ENUM ('pending', 'running', 'apply_pending', 'applying', 'succeeded', 'failed', 'cancelled', 'expired');

-- CreateEnum
CREATE TYPE "CronRunStatus" AS ENUM ('running', 'succeeded', 'failed', 'missed');

-- CreateEnum
CREATE TYPE "ApiRole" AS ENUM ('admin', 'operator', 'viewer', 'agent');

-- CreateTable
CREATE TABLE "Pool" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "runtime" TEXT NOT NULL DEFAULT 'local',
    "namespace" TEXT NOT NULL DEFAULT 'default',
    "image" TEXT,
    "podTemplate" JSONB,
    "slotsPerPod" INTEGER NOT NULL DEFAULT 3,
    "minPods" INTEGER NOT NULL DEFAULT 0,
    "maxPods" INTEGER NOT NULL DEFAULT 10,
    "scaleUpAt" DOUBLE PRECISION NOT NULL DEFAULT 0.8,
    "scaleDownAt" DOUBLE PRECISION NOT NULL DEFAULT 0.2,
    "scaleUpCooldownSeconds" INTEGER NOT NULL DEFAULT 30,
    "scaleDownCooldownSeconds" INTEGER NOT NULL DEFAULT 120,
    "stabilizationWindowSeconds" INTEGER NOT NULL DEFAULT 60,
    "maxStep" INTEGER NOT NULL DEFAULT 2,
    "newPodGraceSeconds" INTEGER NOT NULL DEFAULT 60,
    "reservationTtlSeconds" INTEGER NOT NULL DEFAULT 86400,
    "autoscale" BOOLEAN NOT NULL DEFAULT true,
    "lostPodPolicy" TEXT NOT NULL DEFAULT 'fail',
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "lastScaleUpAt" TIMESTAMP(3),
    "lastScaleDownAt" TIMESTAMP(3),
    "conditions" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Pool_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Pod" (
    "id" UUID NOT NULL,
    "poolId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "phase" "PodPhase" NOT NULL DEFAULT 'Pending',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readyAt" TIMESTAMP(3),
    "lastHeartbeatAt" TIMESTAMP(3),
    "phaseChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Pod_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Slot" (
    "id" UUID NOT NULL,
    "podId" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "state" "SlotState" NOT NULL DEFAULT 'idle',
    "taskId" UUID,
    "reservedUntil" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Slot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Task" (
    "id" UUID NOT NULL,
    "seq" SERIAL NOT NULL,
    "poolId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "TaskStatus" NOT NULL DEFAULT 'pending',
    "podName" TEXT,
    "slotIndex" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "output" JSONB,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "planReadyAt" TIMESTAMP(3),
    "approvedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SlotAssignment" (
    "id" UUID NOT NULL,
    "slotId" UUID NOT NULL,
    "podName" TEXT NOT NULL,
    "slotIndex" INTEGER NOT NULL,
    "taskId" UUID NOT NULL,
    "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMP(3),
    "releaseNote" TEXT,

    CONSTRAINT "SlotAssignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScalingEvent" (
    "id" UUID NOT NULL,
    "poolId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "fromPods" INTEGER NOT NULL,
    "toPods" INTEGER NOT NULL,
    "utilization" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ScalingEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CronJob" (
    "name" TEXT NOT NULL,
    "schedule" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "overlap" TEXT NOT NULL DEFAULT 'skip',
    "lockTtlMs" INTEGER NOT NULL DEFAULT 30000,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "triggerRequestedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CronJob_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "CronRun" (
    "id" UUID NOT NULL,
    "job" TEXT NOT NULL,
    "replica" TEXT NOT NULL,
    "scheduledAt" TIMESTAMP(3) NOT NULL,
    "trigger" TEXT NOT NULL DEFAULT 'schedule',
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "status" "CronRunStatus" NOT NULL,
    "error" TEXT,
    "fencingToken" TEXT,

    CONSTRAINT "CronRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ApiRole" NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "poolId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Pool_name_key" ON "Pool"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Pod_name_key" ON "Pod"("name");

-- CreateIndex
CREATE INDEX "Pod_poolId_phase_idx" ON "Pod"("poolId", "phase");

-- CreateIndex
CREATE UNIQUE INDEX "Slot_taskId_key" ON "Slot"("taskId");

-- CreateIndex
CREATE INDEX "Slot_state_idx" ON "Slot"("state");

-- CreateIndex
CREATE UNIQUE INDEX "Slot_podId_index_key" ON "Slot"("podId", "index");

-- CreateIndex
CREATE UNIQUE INDEX "Task_seq_key" ON "Task"("seq");

-- CreateIndex
CREATE INDEX "Task_poolId_status_seq_idx" ON "Task"("poolId", "status", "seq");

-- CreateIndex
CREATE INDEX "Task_status_idx" ON "Task"("status");

-- CreateIndex
CREATE INDEX "SlotAssignment_slotId_assignedAt_idx" ON "SlotAssignment"("slotId", "assignedAt");

-- CreateIndex
CREATE INDEX "SlotAssignment_taskId_idx" ON "SlotAssignment"("taskId");

-- CreateIndex
CREATE INDEX "ScalingEvent_poolId_at_idx" ON "ScalingEvent"("poolId", "at");

-- CreateIndex
CREATE INDEX "CronRun_job_startedAt_idx" ON "CronRun"("job", "startedAt");

-- CreateIndex
CREATE INDEX "CronRun_status_idx" ON "CronRun"("status");

-- CreateIndex
CREATE UNIQUE INDEX "CronRun_job_scheduledAt_key" ON "CronRun"("job", "scheduledAt");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- AddForeignKey
ALTER TABLE "Pod" ADD CONSTRAINT "Pod_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Slot" ADD CONSTRAINT "Slot_podId_fkey" FOREIGN KEY ("podId") REFERENCES "Pod"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Slot" ADD CONSTRAINT "Slot_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Task" ADD CONSTRAINT "Task_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SlotAssignment" ADD CONSTRAINT "SlotAssignment_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScalingEvent" ADD CONSTRAINT "ScalingEvent_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CronRun" ADD CONSTRAINT "CronRun_job_fkey" FOREIGN KEY ("job") REFERENCES "CronJob"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Invariants Prisma's schema language cannot state; the database enforces them too.
ALTER TABLE "Slot" ADD CONSTRAINT "Slot_task_matches_state" CHECK (("state" = 'idle') = ("taskId" IS NULL));
ALTER TABLE "Slot" ADD CONSTRAINT "Slot_reservation_matches_state" CHECK (("state" = 'reserved') = ("reservedUntil" IS NOT NULL));
ALTER TABLE "Slot" ADD CONSTRAINT "Slot_index_range" CHECK ("index" >= 0 AND "index" < 64);
ALTER TABLE "Pool" ADD CONSTRAINT "Pool_slotsPerPod_range" CHECK ("slotsPerPod" BETWEEN 1 AND 64);
ALTER TABLE "Pool" ADD CONSTRAINT "Pool_pods_range" CHECK ("minPods" >= 0 AND "minPods" <= "maxPods");
ALTER TABLE "Pool" ADD CONSTRAINT "Pool_thresholds_order" CHECK ("scaleDownAt" > 0 AND "scaleDownAt" < "scaleUpAt" AND "scaleUpAt" <= 1);
