-- AlterTable
ALTER TABLE "SlotAssignment" ADD COLUMN     "assignedSeq" BIGSERIAL NOT NULL,
ADD COLUMN     "releasedSeq" BIGINT;

-- CreateIndex
CREATE UNIQUE INDEX "SlotAssignment_assignedSeq_key" ON "SlotAssignment"("assignedSeq");
