-- CreateTable
CREATE TABLE "PoolSample" (
    "id" BIGSERIAL NOT NULL,
    "poolId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "busySlots" INTEGER NOT NULL,
    "reservedSlots" INTEGER NOT NULL,
    "idleSlots" INTEGER NOT NULL,
    "startingSlots" INTEGER NOT NULL,
    "pendingTasks" INTEGER NOT NULL,
    "podCount" INTEGER NOT NULL,

    CONSTRAINT "PoolSample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "mode" TEXT NOT NULL,
    "host" TEXT NOT NULL,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PoolSample_poolId_at_idx" ON "PoolSample"("poolId", "at");

-- CreateIndex
CREATE INDEX "PoolSample_at_idx" ON "PoolSample"("at");

-- CreateIndex
CREATE INDEX "Replica_lastSeenAt_idx" ON "Replica"("lastSeenAt");

-- AddForeignKey
ALTER TABLE "PoolSample" ADD CONSTRAINT "PoolSample_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE CASCADE ON UPDATE CASCADE;
