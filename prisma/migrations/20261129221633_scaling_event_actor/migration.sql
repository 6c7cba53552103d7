-- AlterTable
ALTER TABLE "ScalingEvent" ADD COLUMN     "actor" TEXT;
