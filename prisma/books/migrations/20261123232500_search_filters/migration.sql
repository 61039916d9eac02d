-- Catalogue search at a million books (issue #4, docs/benchmarks.md): filters and popularity tiers in the
-- search document, so that a filtered search and the "most popular matches" window are one GIN lookup.
-- Written by hand (no schema.prisma change: `npm run migrate:new` has nothing to generate, and
-- `npm run migrate:check` does not see functions and triggers).
--
-- Besides the words, every book's "searchVector" now holds marker lexemes that no text can produce (the
-- 'simple' configuration lower-cases every word, and a marker starts with a capital letter and a colon):
--   G:<genre>        one per genre, exactly as stored (case kept)
--   L:<language>     the language code
--   Y:<year> D:<decade> C:<century>   for a year from 0 to 9999 (decade = year / 10, century = year / 100)
--   P:<threshold>    for each popularity threshold the book reaches (see shelfwise_popularity_tiers)
--   S:listed         the book is not withdrawn
-- BookSearch.ts adds the matching markers to the text query: `winter` in French mysteries becomes
-- 'winter' & 'G:Mystery' & 'L:fr', and "the most popular matches" is tried tier by tier (& 'P:9990', then
-- & 'P:9965', …), each tier a GIN intersection instead of a walk over the popularity index.

-- The popularity thresholds of the tiers, highest first. Tuned for the catalogue's 0–10,000 popularity scale
-- (the generated catalogue puts about 0.02%, 0.06%, 0.17%, 0.5%, 1.7%, 5%, 11% and 32% of the books at or
-- above them); they only decide how fast a search is, never what it finds.
CREATE FUNCTION shelfwise_popularity_tiers() RETURNS int[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT ARRAY[9990, 9965, 9900, 9700, 9000, 7300, 5000, 1000] $$;

-- The marker lexemes of a book (see above).
CREATE FUNCTION shelfwise_book_markers(genres text[], language text, year int, popularity int, withdrawn boolean) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT array_to_tsvector(ARRAY(
           SELECT m FROM (
             SELECT 'G:' || g AS m FROM unnest(coalesce(genres, ARRAY[]::text[])) AS g WHERE g <> '' AND octet_length(g) < 1000
             UNION ALL SELECT 'L:' || language WHERE coalesce(language, '') <> '' AND octet_length(language) < 1000
             UNION ALL SELECT unnest(ARRAY['Y:' || year, 'D:' || (year / 10), 'C:' || (year / 100)]) WHERE year BETWEEN 0 AND 9999
             UNION ALL SELECT 'P:' || t FROM unnest(shelfwise_popularity_tiers()) AS t WHERE popularity >= t
             UNION ALL SELECT 'S:listed' WHERE NOT withdrawn
           ) markers)) $$;

CREATE OR REPLACE FUNCTION shelfwise_book_search_columns() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW."titleKey" := shelfwise_title_key(NEW."title");
  NEW."searchVector" := shelfwise_book_document(NEW."title", NEW."authors", NEW."genres", NEW."description")
    || shelfwise_book_markers(NEW."genres", NEW."language", NEW."publishedYear", NEW."popularity", NEW."withdrawnAt" IS NOT NULL);
  RETURN NEW;
END
$$;

DROP TRIGGER "Book_search_columns" ON "Book";
CREATE TRIGGER "Book_search_columns"
  BEFORE INSERT OR UPDATE OF "title", "authors", "genres", "description", "language", "publishedYear", "popularity", "withdrawnAt" ON "Book"
  FOR EACH ROW EXECUTE FUNCTION shelfwise_book_search_columns();

-- Markers are not words: they never join the typo vocabulary.
CREATE OR REPLACE FUNCTION shelfwise_book_search_words() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  INSERT INTO "SearchWord" ("word")
    SELECT DISTINCT w FROM written, unnest(tsvector_to_array(written."searchVector")) AS w
    WHERE length(w) BETWEEN 2 AND 60 AND w !~ '^[A-Z]:'
    ORDER BY w
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

-- Books that exist already get their markers now. Their words do not change, so the vocabulary trigger is
-- off for this one statement, and the GIN index is rebuilt once instead of updated row by row.
DROP INDEX "Book_searchVector_idx";
ALTER TABLE "Book" DISABLE TRIGGER "Book_search_words_update";
UPDATE "Book" SET "title" = "title";
ALTER TABLE "Book" ENABLE TRIGGER "Book_search_words_update";
CREATE INDEX "Book_searchVector_idx" ON "Book" USING GIN ("searchVector");
