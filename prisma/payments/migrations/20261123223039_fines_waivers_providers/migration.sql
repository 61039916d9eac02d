/*
  Warnings:

  - Added the required column `currency` to the `Payment` table without a default value. This is not possible if the table is not empty.
  - Added the required column `method` to the `Payment` table without a default value. This is not possible if the table is not empty.
  - Added the required column `provider` to the `Payment` table without a default value. This is not possible if the table is not empty.
  - Added the required column `providerReference` to the `Payment` table without a default value. This is not possible if the table is not empty.
  - A unique constraint covering the columns `[overdueLoanId]` on the table `Fine` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateEnum
CREATE TYPE "PaymentMethod" AS ENUM ('CASH', 'CARD');

-- AlterTable
ALTER TABLE "Fine" ADD COLUMN     "assessedById" UUID,
ADD COLUMN     "daysOverdue" INTEGER,
ADD COLUMN     "overdueLoanId" UUID;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "currency" TEXT NOT NULL,
ADD COLUMN     "method" "PaymentMethod" NOT NULL,
ADD COLUMN     "provider" TEXT NOT NULL,
ADD COLUMN     "providerReference" TEXT NOT NULL,
ADD COLUMN     "recordedById" UUID;

-- CreateTable
CREATE TABLE "FineWaiver" (
    "id" UUID NOT NULL,
    "fineId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "waivedById" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FineWaiver_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "FineWaiver_fineId_key" ON "FineWaiver"("fineId");

-- CreateIndex
CREATE INDEX "FineWaiver_createdAt_id_idx" ON "FineWaiver"("createdAt", "id");

-- CreateIndex
CREATE INDEX "FineWaiver_userId_createdAt_idx" ON "FineWaiver"("userId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Fine_overdueLoanId_key" ON "Fine"("overdueLoanId");

-- AddForeignKey
ALTER TABLE "FineWaiver" ADD CONSTRAINT "FineWaiver_fineId_fkey" FOREIGN KEY ("fineId") REFERENCES "Fine"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Money is whole positive cents (Prisma does not model CHECK constraints; kept here by hand).
ALTER TABLE "Fine" ADD CONSTRAINT "Fine_amountCents_positive" CHECK ("amountCents" > 0);
ALTER TABLE "Payment" ADD CONSTRAINT "Payment_amountCents_positive" CHECK ("amountCents" > 0);
ALTER TABLE "PaymentFine" ADD CONSTRAINT "PaymentFine_amountCents_positive" CHECK ("amountCents" > 0);
-- The overdue key is the loan itself, and only on OVERDUE fines.
ALTER TABLE "Fine" ADD CONSTRAINT "Fine_overdueLoanId_matches" CHECK (
  ("reason" = 'OVERDUE' AND "overdueLoanId" IS NOT NULL AND "overdueLoanId" = "loanId" AND "daysOverdue" > 0)
  OR ("reason" <> 'OVERDUE' AND "overdueLoanId" IS NULL)
);
