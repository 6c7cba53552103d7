-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "podPolicyOverride" BOOLEAN NOT NULL DEFAULT false;
