/*
  Warnings:

  - A unique constraint covering the columns `[loanId]` on the table `Copy` will be added. If there are existing duplicate values, this will fail.
  - A unique constraint covering the columns `[reservationId]` on the table `Copy` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateEnum
CREATE TYPE "AllocationKind" AS ENUM ('LOAN', 'HOLD');

-- AlterTable
ALTER TABLE "Copy" ADD COLUMN     "loanId" UUID,
ADD COLUMN     "reservationId" UUID;

-- CreateTable
CREATE TABLE "CopyAllocation" (
    "key" UUID NOT NULL,
    "kind" "AllocationKind" NOT NULL,
    "copyId" UUID NOT NULL,
    "bookId" UUID NOT NULL,
    "userId" UUID,
    "reservationId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "CopyAllocation_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "CopyAllocation_copyId_idx" ON "CopyAllocation"("copyId");

-- CreateIndex
CREATE UNIQUE INDEX "Copy_loanId_key" ON "Copy"("loanId");

-- CreateIndex
CREATE UNIQUE INDEX "Copy_reservationId_key" ON "Copy"("reservationId");

-- AddForeignKey
ALTER TABLE "CopyAllocation" ADD CONSTRAINT "CopyAllocation_copyId_fkey" FOREIGN KEY ("copyId") REFERENCES "Copy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
