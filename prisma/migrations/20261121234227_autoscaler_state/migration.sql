-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "lowUtilizationSince" TIMESTAMP(3);
