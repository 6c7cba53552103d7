-- Utilisation samples keep the pending queue by reason (no slot, key blocked, reserved cap).

-- AlterTable
ALTER TABLE "PoolSample" ADD COLUMN     "pendingKeyBlocked" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pendingNoSlot" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pendingReservedCap" INTEGER NOT NULL DEFAULT 0;
