-- CreateEnum
CREATE TYPE "FineReason" AS ENUM ('OVERDUE', 'LOST', 'DAMAGED', 'OTHER');

-- CreateEnum
CREATE TYPE "FineStatus" AS ENUM ('OPEN', 'PAID', 'WAIVED');

-- CreateTable
CREATE TABLE "Fine" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "loanId" UUID,
    "amountCents" INTEGER NOT NULL,
    "reason" "FineReason" NOT NULL,
    "status" "FineStatus" NOT NULL DEFAULT 'OPEN',
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Fine_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Payment" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PaymentFine" (
    "paymentId" UUID NOT NULL,
    "fineId" UUID NOT NULL,
    "amountCents" INTEGER NOT NULL,

    CONSTRAINT "PaymentFine_pkey" PRIMARY KEY ("paymentId","fineId")
);

-- CreateIndex
CREATE INDEX "Fine_userId_status_idx" ON "Fine"("userId", "status");

-- CreateIndex
CREATE INDEX "Fine_loanId_idx" ON "Fine"("loanId");

-- CreateIndex
CREATE INDEX "Payment_userId_createdAt_idx" ON "Payment"("userId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Payment_userId_idempotencyKey_key" ON "Payment"("userId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "PaymentFine_fineId_idx" ON "PaymentFine"("fineId");

-- AddForeignKey
ALTER TABLE "PaymentFine" ADD CONSTRAINT "PaymentFine_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentFine" ADD CONSTRAINT "PaymentFine_fineId_fkey" FOREIGN KEY ("fineId") REFERENCES "Fine"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
