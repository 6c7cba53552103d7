-- CreateTable
CREATE TABLE "TaskLog" (
    "taskId" UUID NOT NULL,
    "size" BIGINT NOT NULL DEFAULT 0,
    "capBytes" INTEGER NOT NULL,
    "storedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TaskLog_pkey" PRIMARY KEY ("taskId")
);

-- CreateTable
CREATE TABLE "TaskLogChunk" (
    "taskId" UUID NOT NULL,
    "offset" BIGINT NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "TaskLogChunk_pkey" PRIMARY KEY ("taskId","offset")
);

-- AddForeignKey
ALTER TABLE "TaskLog" ADD CONSTRAINT "TaskLog_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskLogChunk" ADD CONSTRAINT "TaskLogChunk_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "TaskLog"("taskId") ON DELETE CASCADE ON UPDATE CASCADE;
