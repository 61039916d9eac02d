-- CreateTable
CREATE TABLE "BookEvent" (
    "id" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "bookId" UUID NOT NULL,
    "availableCopies" INTEGER NOT NULL,
    "totalCopies" INTEGER NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "publishedAt" TIMESTAMP(3),

    CONSTRAINT "BookEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BookEvent_publishedAt_id_idx" ON "BookEvent"("publishedAt", "id");
