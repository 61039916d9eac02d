/*
  Warnings:

  - A unique constraint covering the columns `[onceKey]` on the table `Notification` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateEnum
CREATE TYPE "ProcessedOutcome" AS ENUM ('STORED', 'NOT_WANTED', 'ALREADY_NOTIFIED');

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "onceKey" TEXT;

-- CreateTable
CREATE TABLE "ProcessedEvent" (
    "id" TEXT NOT NULL,
    "type" "NotificationKind" NOT NULL,
    "userId" UUID NOT NULL,
    "outcome" "ProcessedOutcome" NOT NULL,
    "notificationId" UUID,
    "processedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProcessedEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Notification_onceKey_key" ON "Notification"("onceKey");
