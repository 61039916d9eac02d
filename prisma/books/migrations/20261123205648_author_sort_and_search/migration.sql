-- AlterTable
ALTER TABLE "Book" ADD COLUMN     "authorsText" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "sortAuthor" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "Book_sortAuthor_idx" ON "Book"("sortAuthor");

-- Backfill (written by hand): books added before this migration get their author columns.
UPDATE "Book" SET "authorsText" = array_to_string("authors", ' | '), "sortAuthor" = lower(coalesce("authors"[1], ''));
