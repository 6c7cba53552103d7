-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "idempotencyKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Task_poolId_idempotencyKey_key" ON "Task"("poolId", "idempotencyKey");
