-- CreateTable
CREATE TABLE "FineEvent" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "fineId" UUID NOT NULL,
    "loanId" UUID,
    "bookId" UUID,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "data" JSONB NOT NULL,
    "publishedAt" TIMESTAMP(3),

    CONSTRAINT "FineEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FineEvent_publishedAt_occurredAt_idx" ON "FineEvent"("publishedAt", "occurredAt");
