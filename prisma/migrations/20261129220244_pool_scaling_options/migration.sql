-- Autoscaler options: burst scale-up bound, pod recycling, scheduled capacity windows.
-- IF NOT EXISTS: Pool.maxTasksPerPod and Pod.tasksStarted are added by the concurrency-keys
-- migration too (same names and types); whichever runs first creates them.

-- AlterTable
ALTER TABLE "Pod" ADD COLUMN IF NOT EXISTS "tasksStarted" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN IF NOT EXISTS "capacityWindows" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN IF NOT EXISTS "maxPodAgeSeconds" INTEGER,
ADD COLUMN IF NOT EXISTS "maxTasksPerPod" INTEGER,
ADD COLUMN IF NOT EXISTS "scaleUpMaxStep" INTEGER;
