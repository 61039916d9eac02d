/**
 * Bulk loading of catalogue rows, shared by the seed, the CSV import and the demo library: one SQL
 * statement per batch (arrays unnested into rows, never values pasted into SQL) inserts the books and
 * their copies. Books whose ISBN is already catalogued are skipped, so loading the same rows twice adds
 * nothing. The database's triggers fill the search columns (migration `…_search`).
 */
import { authorColumns } from '../data/BookRepository.js';

/** Runs one parameterised statement and returns its rows: pg, PGlite and Prisma's $queryRawUnsafe all fit. */
export type SqlRunner = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** A book to load; `id` and `popularity` are optional (a fresh UUID and 0). */
export interface BookRow {
  id?: string;
  isbn: string;
  title: string;
  authors: string[];
  genres: string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
  copies: number;
  popularity?: number;
}

export interface LoadResult {
  /** Books inserted (rows whose ISBN already existed are not counted). */
  books: number;
  copies: number;
}

/** Separates list items inside one array element (authors, genres); it cannot occur in catalogue text. */
const SEP = '\u001f';

const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::int[], $12::int[])
    AS t(id, isbn, title, authors, "authorsText", "sortAuthor", genres, year, language, description, copies, popularity)
), inserted AS (
  INSERT INTO "Book" ("id", "isbn", "title", "authors", "authorsText", "sortAuthor", "genres", "publishedYear", "language", "description", "popularity", "updatedAt")
  SELECT coalesce(id, gen_random_uuid()), isbn, title, string_to_array(authors, E'\\x1f'), "authorsText", "sortAuthor",
         string_to_array(genres, E'\\x1f'), year, language, description, popularity, now()
  FROM input
  ON CONFLICT ("isbn") DO NOTHING
  RETURNING "id", "isbn"
), copies AS (
  INSERT INTO "Copy" ("id", "bookId", "barcode", "updatedAt")
  SELECT md5(i."isbn" || '/' || n)::uuid, i."id", i."isbn" || '-' || lpad(n::text, 3, '0'), now()
  FROM inserted i JOIN input ON input.isbn = i."isbn", generate_series(1, input.copies) AS n
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS books, (SELECT count(*) FROM copies)::int AS copies`;

/** Inserts one batch of books (a few thousand per call is a good size) with their copies. */
export async function insertBooks(run: SqlRunner, books: readonly BookRow[]): Promise<LoadResult> {
  if (books.length === 0) return { books: 0, copies: 0 };
  const columns: unknown[][] = Array.from({ length: 12 }, () => []);
  for (const b of books) {
    const { authorsText, sortAuthor } = authorColumns(b.authors);
    const values = [
      b.id ?? null,
      b.isbn,
      b.title,
      b.authors.join(SEP),
      authorsText,
      sortAuthor,
      b.genres.join(SEP),
      b.publishedYear,
      b.language,
      b.description,
      b.copies,
      b.popularity ?? 0,
    ];
    values.forEach((v, i) => columns[i]!.push(v));
  }
  const [row] = await run(INSERT_BATCH, columns);
  return { books: Number(row?.books ?? 0), copies: Number(row?.copies ?? 0) };
}
