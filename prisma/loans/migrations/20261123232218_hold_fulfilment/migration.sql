-- AlterTable
ALTER TABLE "Loan" ADD COLUMN     "holdFulfilledAt" TIMESTAMP(3);
