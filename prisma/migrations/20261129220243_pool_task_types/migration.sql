-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "taskTypes" JSONB;
