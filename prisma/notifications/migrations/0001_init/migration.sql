-- CreateEnum
CREATE TYPE "NotificationKind" AS ENUM ('DUE_SOON', 'OVERDUE', 'RESERVATION_READY', 'RESERVATION_EXPIRED', 'FINE_ASSESSED');

-- CreateTable
CREATE TABLE "Notification" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" "NotificationKind" NOT NULL,
    "message" TEXT NOT NULL,
    "bookId" UUID,
    "loanId" UUID,
    "reservationId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt" TIMESTAMP(3),

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NotificationPreference" (
    "userId" UUID NOT NULL,
    "dueSoon" BOOLEAN NOT NULL DEFAULT true,
    "overdue" BOOLEAN NOT NULL DEFAULT true,
    "reservationReady" BOOLEAN NOT NULL DEFAULT true,
    "reservationExpired" BOOLEAN NOT NULL DEFAULT true,
    "fineAssessed" BOOLEAN NOT NULL DEFAULT true,
    "dueSoonDaysBefore" INTEGER NOT NULL DEFAULT 2,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NotificationPreference_pkey" PRIMARY KEY ("userId")
);

-- CreateIndex
CREATE INDEX "Notification_userId_createdAt_idx" ON "Notification"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Notification_userId_readAt_idx" ON "Notification"("userId", "readAt");
