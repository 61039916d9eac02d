-- DropIndex
DROP INDEX "Review_authorId_idx";

-- CreateTable
CREATE TABLE "ReviewModeration" (
    "id" UUID NOT NULL,
    "reviewId" UUID NOT NULL,
    "bookId" UUID NOT NULL,
    "authorId" UUID NOT NULL,
    "rating" INTEGER NOT NULL,
    "body" TEXT,
    "reviewCreatedAt" TIMESTAMP(3) NOT NULL,
    "reviewUpdatedAt" TIMESTAMP(3) NOT NULL,
    "moderatorId" UUID NOT NULL,
    "moderatorRole" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "deletedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReviewModeration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ReviewModeration_reviewId_key" ON "ReviewModeration"("reviewId");

-- CreateIndex
CREATE INDEX "ReviewModeration_bookId_deletedAt_idx" ON "ReviewModeration"("bookId", "deletedAt");

-- CreateIndex
CREATE INDEX "ReviewModeration_moderatorId_deletedAt_idx" ON "ReviewModeration"("moderatorId", "deletedAt");

-- CreateIndex
CREATE INDEX "ReviewModeration_authorId_idx" ON "ReviewModeration"("authorId");

-- CreateIndex
CREATE INDEX "Review_authorId_createdAt_idx" ON "Review"("authorId", "createdAt");

-- Hand-written: the database itself refuses what the API refuses (Prisma's schema language has no CHECK).
ALTER TABLE "Review" ADD CONSTRAINT "Review_rating_check" CHECK ("rating" BETWEEN 1 AND 5);
ALTER TABLE "ReviewModeration" ADD CONSTRAINT "ReviewModeration_rating_check" CHECK ("rating" BETWEEN 1 AND 5);
ALTER TABLE "BookRating" ADD CONSTRAINT "BookRating_totals_check" CHECK ("reviewCount" >= 0 AND "ratingSum" >= 0 AND "ratingSum" BETWEEN "reviewCount" AND 5 * "reviewCount");
