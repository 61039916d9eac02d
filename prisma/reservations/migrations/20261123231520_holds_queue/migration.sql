-- CreateEnum
CREATE TYPE "HandoffKind" AS ENUM ('RETURN', 'RELEASE', 'ALLOCATE');

-- CreateEnum
CREATE TYPE "HandoffState" AS ENUM ('PENDING', 'DONE', 'FAILED');

-- AlterTable
ALTER TABLE "Reservation" ADD COLUMN     "bookTitle" TEXT,
ADD COLUMN     "endedAt" TIMESTAMP(3),
ADD COLUMN     "loanId" UUID;

-- CreateTable
CREATE TABLE "Handoff" (
    "key" TEXT NOT NULL,
    "kind" "HandoffKind" NOT NULL,
    "state" "HandoffState" NOT NULL DEFAULT 'PENDING',
    "bookId" UUID NOT NULL,
    "loanId" UUID,
    "fromReservation" UUID,
    "toReservation" UUID,
    "pickupDays" INTEGER NOT NULL,
    "copyId" UUID,
    "copyStatus" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Handoff_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "ReservationEvent" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "bookId" UUID NOT NULL,
    "reservationId" UUID NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "data" JSONB NOT NULL,
    "publishedAt" TIMESTAMP(3),

    CONSTRAINT "ReservationEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Handoff_state_createdAt_idx" ON "Handoff"("state", "createdAt");

-- CreateIndex
CREATE INDEX "ReservationEvent_publishedAt_occurredAt_idx" ON "ReservationEvent"("publishedAt", "occurredAt");

-- CreateIndex
CREATE INDEX "Reservation_status_pickupBy_idx" ON "Reservation"("status", "pickupBy");

-- One live hold (WAITING or READY) per patron and book: a second reserveBook, even raced, is refused.
CREATE UNIQUE INDEX "Reservation_live_user_book_key" ON "Reservation"("userId", "bookId") WHERE "status" IN ('WAITING', 'READY');

-- A hold is in at most one unfinished handoff.
CREATE UNIQUE INDEX "Handoff_pending_to_key" ON "Handoff"("toReservation") WHERE "state" = 'PENDING' AND "toReservation" IS NOT NULL;

-- A book has at most one unfinished ALLOCATE handoff, so free copies go to its queue strictly in order.
CREATE UNIQUE INDEX "Handoff_pending_allocate_key" ON "Handoff"("bookId") WHERE "state" = 'PENDING' AND "kind" = 'ALLOCATE';
