-- Catalogue search (issue #4): ranked full-text search with typo and prefix tolerance. docs/api.md ("Search")
-- explains how these columns are used. Written by `npm run migrate:new -- books search`; the extension,
-- the functions and the triggers below the generated part were added by hand (Prisma's schema engine does
-- not model them, so `npm run migrate:check` neither needs nor sees them).

-- Trigram matching (the embedded PGlite ships it too: kit/src/db.ts loads the extension).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- AlterTable
ALTER TABLE "Book" ADD COLUMN     "popularity" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "searchVector" tsvector,
ADD COLUMN     "titleKey" TEXT NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "SearchWord" (
    "word" TEXT NOT NULL,

    CONSTRAINT "SearchWord_pkey" PRIMARY KEY ("word")
);

-- CreateIndex
CREATE INDEX "SearchWord_word_idx" ON "SearchWord" USING GIN ("word" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Book_titleKey_idx" ON "Book"("titleKey");

-- CreateIndex
CREATE INDEX "Book_popularity_id_idx" ON "Book"("popularity" DESC, "id");

-- CreateIndex
CREATE INDEX "Book_searchVector_idx" ON "Book" USING GIN ("searchVector");

-- CreateIndex
CREATE INDEX "Book_authorsText_idx" ON "Book" USING GIN ("authorsText" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Book_genres_idx" ON "Book" USING GIN ("genres");

-- CreateIndex
CREATE INDEX "Book_publishedYear_idx" ON "Book"("publishedYear");

-- Hand-written from here on.

-- The title as exact-title matching compares it: lower case, runs of anything but letters and digits as one
-- space, trimmed. The search compares shelfwise_title_key(<query>) with "titleKey".
CREATE FUNCTION shelfwise_title_key(t text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT btrim(regexp_replace(lower(coalesce(t, '')), '[^[:alnum:]]+', ' ', 'g')) $$;

-- A book's search document: 'simple' configuration (no stemming, no stop words, so every word and name
-- matches as written and prefixes work on whole words), weighted title A, authors B, genres C, description D.
CREATE FUNCTION shelfwise_book_document(title text, authors text[], genres text[], description text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(authors, ' '), '')), 'B')
            || setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(genres, ' '), '')), 'C')
            || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'D') $$;

-- Every write that changes what is searched keeps "titleKey" and "searchVector" right, whoever writes it
-- (Prisma, the seed, the import): the application never sets them.
CREATE FUNCTION shelfwise_book_search_columns() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW."titleKey" := shelfwise_title_key(NEW."title");
  NEW."searchVector" := shelfwise_book_document(NEW."title", NEW."authors", NEW."genres", NEW."description");
  RETURN NEW;
END
$$;

CREATE TRIGGER "Book_search_columns"
  BEFORE INSERT OR UPDATE OF "title", "authors", "genres", "description" ON "Book"
  FOR EACH ROW EXECUTE FUNCTION shelfwise_book_search_columns();

-- The vocabulary for typo correction: once per statement (a bulk insert of 10,000 books adds its new words
-- in one go), in word order so concurrent writers never deadlock on the same words.
CREATE FUNCTION shelfwise_book_search_words() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  INSERT INTO "SearchWord" ("word")
    SELECT DISTINCT w FROM written, unnest(tsvector_to_array(written."searchVector")) AS w
    WHERE length(w) BETWEEN 2 AND 60
    ORDER BY w
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Book_search_words_insert"
  AFTER INSERT ON "Book" REFERENCING NEW TABLE AS written
  FOR EACH STATEMENT EXECUTE FUNCTION shelfwise_book_search_words();

CREATE TRIGGER "Book_search_words_update"
  AFTER UPDATE ON "Book" REFERENCING NEW TABLE AS written
  FOR EACH STATEMENT EXECUTE FUNCTION shelfwise_book_search_words();

-- Books that exist already get their search columns (and their words) now.
UPDATE "Book" SET "title" = "title";
