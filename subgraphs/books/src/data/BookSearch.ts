import { createHash } from 'node:crypto';
import type { ArgType, SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { badInput, decodeCursor, encodeCursor, MAX_PAGE_SIZE, toConnection } from '@shelfwise/kit';
import { Prisma } from '../generated/prisma/client.js';
import { parseIsbn } from '../isbn.js';
import type { BookModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/**
 * Catalogue search (docs/api.md, "Search"): ranked full-text search over title, authors, genres and
 * description, tolerant of typos and unfinished words, with filters, keyset pagination and facets.
 *
 * A search with a query and the RELEVANCE sort is ONE statement: `shelfwise_search()` (migration
 * 20261124022151_search_single_call, where the SQL explains itself) resolves the words, finds the ranked
 * window, the page, the count and, when the caller selected them, the facets, with plans PostgreSQL made
 * once per connection. This class checks the input, decodes and encodes cursors, passes the constants below
 * and maps the rows. Other sorts with a query take two statements (the function's count, facets and match,
 * then the keyset page), and browsing without a query two (page and count) plus one for facets.
 *
 * 1. Words. PostgreSQL's own text parser splits the query (so the query and the books are split the same
 *    way); the last word is a prefix ("tolki" finds Tolkien), searched as the vocabulary's words that start
 *    with it when there are few. A word that no book holds is replaced by up to three words of the
 *    catalogue's vocabulary (`SearchWord`) that look like it (pg_trgm similarity; "pottr" → potter). Each
 *    word is quoted into the tsquery: nothing the user typed is ever an operator or part of the SQL text.
 * 2. The window. A book matches when its search document holds every word and passes every filter (genre,
 *    language and years are also marker lexemes of the document, so that GIN finds them), or its title
 *    equals the query (ignoring case and punctuation), or its ISBN is the query. RELEVANCE ranks the
 *    `RANK_WINDOW` most popular word matches plus every exact title/ISBN match by a deterministic integer
 *    score; exact matches come first. Matches beyond the window follow in popularity order. The window is
 *    found by walking the popularity index when the words are frequent, by reading every match when few
 *    are expected, and tier by tier (popularity markers) in between, estimated from the exact number of
 *    listed books holding each word and marker (`SearchWord.books`, `SearchMarker.books`).
 * 3. The count: exact up to `COUNT_CAP`, reported as `COUNT_CAP` above it. A single word without filters
 *    is its frequency; otherwise matches are counted until the cap.
 *
 * Every order ends with the book id, and every cursor carries the full sort key (for RELEVANCE: the phase,
 * the exact flag, the score and the window's boundary), so pages never repeat or skip a book. A cursor
 * also names its sort and a digest of the query and filters: a cursor from another search is refused.
 */

export type BookSortKey = 'RELEVANCE' | 'TITLE' | 'AUTHOR' | 'NEWEST' | 'OLDEST';
const SORTS: readonly BookSortKey[] = ['RELEVANCE', 'TITLE', 'AUTHOR', 'NEWEST', 'OLDEST'];

export interface BookSearchInput {
  query?: string | null;
  author?: string | null;
  genre?: string | null;
  language?: string | null;
  availableOnly?: boolean | null;
  publishedFrom?: number | null;
  publishedTo?: number | null;
  sort: BookSortKey;
  first: number;
  after?: string | null;
  /**
   * The caller will read the facets: a search with a query computes them in the same statement as the
   * page (facets() still works without it, at the cost of another statement).
   */
  withFacets?: boolean;
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface BookFacets {
  genres: FacetCount[];
  authors: FacetCount[];
  languages: FacetCount[];
}

export interface BookPage {
  edges: { cursor: string; node: BookModel }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
  /** Facets are computed only when asked for (or already were, with `withFacets`). */
  facets(): Promise<BookFacets>;
}

/** RELEVANCE ranks this many of the most popular matches (plus exact matches) by text score. */
export const RANK_WINDOW = 200;
/** totalCount is exact up to this many matches and reads as this number above it. */
export const COUNT_CAP = 1000;
/** Facets count the matches exactly up to this many; above, they count the this-many most popular matches. */
export const FACET_SAMPLE = 1000;
/** Values listed per facet. */
export const FACET_VALUES = 20;
/** Words of a query that are searched; the rest are ignored. */
export const MAX_WORDS = 8;
/** Similar catalogue words tried for a word that no book contains. */
const TYPO_ALTERNATIVES = 3;
/** A last word with at most this many completions in the vocabulary is searched as those words. */
export const MAX_COMPLETIONS = 32;
/**
 * The popularity tiers of the search document (`P:<threshold>` markers, highest first), exactly as the
 * migration's shelfwise_popularity_tiers() lists them: a book carries the marker of every threshold its
 * popularity reaches.
 */
export const POPULARITY_TIERS = [9990, 9965, 9900, 9700, 9000, 7300, 5000, 1000] as const;
/**
 * The window is found by walking the popularity index when the walk should meet the books it needs within
 * this many rows (about 3 ms at a million books): checking a row's document on the way costs a fraction of
 * what a GIN lookup costs per match of a frequent word.
 */
export const WALK_ROWS = 10_000;
/** Every match is read at once (which also counts them) when at most this many windows of them are expected. */
export const ENUMERATE_WINDOWS = 10;
/**
 * Checking a book's row after GIN costs about as much as decoding this many GIN postings (measured at a
 * million books: ~1.2 µs a row, 15–20 ns a posting): a further word or filter joins the GIN lookup only
 * when its posting list is shorter than this many times the rows GIN would return without it; otherwise it
 * is checked on those rows.
 */
export const GIN_ROW_COST = 64;
/** shelfwise_search()'s settings, in its order: one place (here) says what they are. */
export const SEARCH_SETTINGS = [
  RANK_WINDOW,
  COUNT_CAP,
  FACET_SAMPLE,
  FACET_VALUES,
  MAX_WORDS,
  MAX_COMPLETIONS,
  TYPO_ALTERNATIVES,
  WALK_ROWS,
  ENUMERATE_WINDOWS,
  GIN_ROW_COST,
];

/** The columns of a Book row, as the generated client names them (the search document is never read). */
const BOOK_COLUMNS = Prisma.raw(
  [
    'id',
    'isbn',
    'title',
    'authors',
    'authorsText',
    'sortAuthor',
    'genres',
    'publishedYear',
    'language',
    'description',
    'withdrawnAt',
    'createdAt',
    'updatedAt',
    'popularity',
    'titleKey',
  ]
    .map((c) => `b."${c}"`)
    .join(', '),
);

type Row = BookModel & Record<string, unknown>;

/** RELEVANCE cursor: phase 0 (ranked window) [exact, score, id] or phase 1 (tail) [popularity, id], plus the window boundary. */
interface RelevanceKey {
  phase: 0 | 1;
  key: [number, number, string] | [number, string];
  boundary: [number, string] | null;
}
/** TITLE/AUTHOR: [text, id]; NEWEST/OLDEST: [year or null, id]. */
type OrderKey = [string | number | null, string];

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';
function isRelevanceKey(v: unknown): v is RelevanceKey {
  if (typeof v !== 'object' || v === null) return false;
  const { phase, key, boundary } = v as Record<string, unknown>;
  const boundaryOk =
    boundary === null || (Array.isArray(boundary) && boundary.length === 2 && isInt(boundary[0]) && isUuidText(boundary[1]));
  if (!boundaryOk || !Array.isArray(key)) return false;
  if (phase === 0) return key.length === 3 && (key[0] === 0 || key[0] === 1) && isInt(key[1]) && isUuidText(key[2]);
  return phase === 1 && boundary !== null && key.length === 2 && isInt(key[0]) && isUuidText(key[1]);
}
const isOrderKey = (v: unknown): v is OrderKey =>
  Array.isArray(v) && v.length === 2 && (isString(v[0]) || isInt(v[0]) || v[0] === null) && isString(v[1]);
/** Cursor ids go to the database as uuid parameters: anything else is a bad cursor, not a server error. */
const isUuidText = (v: unknown): v is string => isString(v) && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/** `\`, `%` and `_` escaped for LIKE / ILIKE (with the default escape character). */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** One book row as shelfwise_search() returns it (timestamps as ISO text without a zone: UTC). */
interface SearchRow {
  id: string;
  isbn: string;
  title: string;
  authors: string[];
  authorsText: string;
  sortAuthor: string;
  genres: string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
  withdrawnAt: string | null;
  createdAt: string;
  updatedAt: string;
  popularity: number;
  titleKey: string;
  phase: 0 | 1;
  exact: number;
  score: number;
}

/** What shelfwise_search() returns. */
interface SearchResult {
  rows: SearchRow[];
  boundary: [number, string] | null;
  total: number;
  facets: BookFacets | null;
  /** The words and markers as tsquery text (null: the query has no words). */
  match: string | null;
}

/** Prisma's own reading of `timestamp(3)`: the wall-clock value is UTC. */
const utc = (text: string) => new Date(`${text}Z`);

function toBook(row: SearchRow): BookModel {
  return {
    id: row.id,
    isbn: row.isbn,
    title: row.title,
    authors: row.authors,
    authorsText: row.authorsText,
    sortAuthor: row.sortAuthor,
    genres: row.genres,
    publishedYear: row.publishedYear,
    language: row.language,
    description: row.description,
    withdrawnAt: row.withdrawnAt === null ? null : utc(row.withdrawnAt),
    createdAt: utc(row.createdAt),
    updatedAt: utc(row.updatedAt),
    popularity: row.popularity,
    titleKey: row.titleKey,
  };
}

/** shelfwise_search()'s call: every argument typed, so that one plan fits every call. */
const SEARCH_SQL = `SELECT shelfwise_search($1::text, $2::text, $3::text, $4::text, $5::text, $6::boolean, $7::int, $8::int,
  $9::boolean, $10::int, $11::int, $12::int, $13::int, $14::uuid, $15::int, $16::uuid, $17::boolean, $18::int[]) AS result`;
const scalar = (scalarType: ArgType['scalarType']): ArgType => ({ scalarType, arity: 'scalar' });
/** The driver's view of SEARCH_SQL's arguments (it only converts dates and bytes; none here). */
const SEARCH_ARG_TYPES: ArgType[] = [
  ...[
    'string',
    'string',
    'string',
    'string',
    'string',
    'boolean',
    'int',
    'int',
    'boolean',
    'int',
    'int',
    'int',
    'int',
    'uuid',
    'int',
    'uuid',
    'boolean',
  ].map((t) => scalar(t as ArgType['scalarType'])),
  { scalarType: 'int', arity: 'list' },
];

export class BookSearch {
  /** The search statement straight on the driver adapter, when the caller gave one (null: through Prisma). */
  private readonly direct: ((args: unknown[]) => Promise<unknown>) | null;

  /**
   * @param adapter the database's driver adapter (the one the Prisma client runs on). The search statement
   * then goes straight to it: Prisma's `$queryRaw` costs about 1 ms of this process's CPU per call on top
   * of the driver (measured, docs/benchmarks.md), more than the rest of a search request's work here.
   */
  constructor(
    private readonly prisma: PrismaClient,
    adapter?: SqlDriverAdapterFactory,
  ) {
    let connection: Promise<SqlDriverAdapter> | null = null;
    this.direct = adapter
      ? async (args) => {
          connection ??= adapter.connect().catch((err: unknown) => {
            connection = null;
            throw err;
          });
          const result = await (await connection).queryRaw({ sql: SEARCH_SQL, args, argTypes: SEARCH_ARG_TYPES });
          return result.rows[0]?.[0];
        }
      : null;
  }

  async search(input: BookSearchInput): Promise<BookPage> {
    if (!SORTS.includes(input.sort)) throw badInput(`Unknown sort "${String(input.sort)}": use one of ${SORTS.join(', ')}.`);
    if (!Number.isInteger(input.first) || input.first < 1 || input.first > MAX_PAGE_SIZE) {
      throw badInput(`"first" must be between 1 and ${MAX_PAGE_SIZE}; ask for the next page with "after" instead.`);
    }
    // NUL cannot be stored or compared in PostgreSQL text; control characters are never meaningful here.
    const query = clean(input.query);
    // RELEVANCE needs something to be relevant to: without a query it is the title order.
    const sort: BookSortKey = input.sort === 'RELEVANCE' && query === '' ? 'TITLE' : input.sort;
    const kind = `books:${sort}:${digest(query, input)}`;

    if (query === '') {
      const where = Prisma.sql`b."withdrawnAt" IS NULL AND ${filterSql(input)}`;
      const [rows, totalCount] = await Promise.all([
        this.orderedPage(where, sort as Exclude<BookSortKey, 'RELEVANCE'>, kind, input),
        this.count(where),
      ]);
      return { ...toConnection(rows.rows, input.first, totalCount, rows.cursorOf), facets: () => this.facets(where) };
    }

    if (sort === 'RELEVANCE') {
      const after = decodeCursor(kind, input.after, isRelevanceKey);
      const result = await this.run(query, input, { page: true, after, facets: input.withFacets === true });
      const boundary = result.boundary;
      const rows = result.rows.map((row) => ({ row, book: toBook(row) }));
      const cursorOf = ({ row }: { row: SearchRow }) =>
        encodeCursor(
          kind,
          row.phase === 0
            ? ({ phase: 0, key: [row.exact, row.score, row.id], boundary } satisfies RelevanceKey)
            : ({ phase: 1, key: [row.score, row.id], boundary } satisfies RelevanceKey),
        );
      const connection = toConnection(rows, input.first, result.total, cursorOf);
      return {
        edges: connection.edges.map((e) => ({ cursor: e.cursor, node: e.node.book })),
        pageInfo: connection.pageInfo,
        totalCount: connection.totalCount,
        facets: async () => result.facets ?? (await this.run(query, input, { page: false, facets: true })).facets!,
      };
    }

    // Another order: the function counts (and finds the facets) and says what matches; the page is a keyset
    // page over that.
    const found = await this.run(query, input, { page: false, facets: input.withFacets === true });
    const isbn = parseIsbn(query);
    const exactWhere = Prisma.sql`(b."titleKey" = nullif(shelfwise_title_key(${query}), '') OR b."isbn" = ${isbn.ok ? isbn.isbn13 : null}::text)
      AND b."withdrawnAt" IS NULL AND ${filterSql(input)}`;
    const words =
      found.match === null
        ? Prisma.sql`false`
        : Prisma.sql`(b."searchVector" @@ ${found.match}::tsquery AND b."withdrawnAt" IS NULL AND ${filterSql(input)})`;
    const rows = await this.orderedPage(Prisma.sql`(${words} OR (${exactWhere}))`, sort, kind, input);
    return {
      ...toConnection(rows.rows, input.first, found.total, rows.cursorOf),
      facets: async () => found.facets ?? (await this.run(query, input, { page: false, facets: true })).facets!,
    };
  }

  /** One call of shelfwise_search(): the RELEVANCE page (page), the count, the match and the facets (facets). */
  private async run(
    query: string,
    input: BookSearchInput,
    options: { page: boolean; after?: RelevanceKey; facets: boolean },
  ): Promise<SearchResult> {
    const isbn = parseIsbn(query);
    const author = clean(input.author);
    const after = options.after;
    const args = [
      query,
      isbn.ok ? isbn.isbn13 : null,
      clean(input.genre) || null,
      clean(input.language) || null,
      author ? `%${likeEscape(author)}%` : null,
      input.availableOnly === true,
      input.publishedFrom ?? null,
      input.publishedTo ?? null,
      options.page,
      input.first + 1,
      after?.phase ?? null,
      after?.phase === 0 ? after.key[0] : null,
      after ? after.key[after.phase === 0 ? 1 : 0] : null,
      after ? after.key[after.phase === 0 ? 2 : 1] : null,
      after?.boundary?.[0] ?? null,
      after?.boundary?.[1] ?? null,
      options.facets,
      SEARCH_SETTINGS,
    ];
    const value = this.direct
      ? await this.direct(args)
      : (await this.prisma.$queryRawUnsafe<{ result: unknown }[]>(SEARCH_SQL, ...args))[0]?.result;
    // Drivers hand json over as text; a client may have parsed it already.
    return (typeof value === 'string' ? JSON.parse(value) : value) as SearchResult;
  }

  private async orderedPage(
    where: Prisma.Sql,
    sort: Exclude<BookSortKey, 'RELEVANCE'>,
    kind: string,
    input: BookSearchInput,
  ): Promise<{ rows: Row[]; cursorOf: (row: Row) => string }> {
    const after = decodeCursor(kind, input.after, isOrderKey);
    let order: Prisma.Sql;
    let afterSql: Prisma.Sql = Prisma.sql`true`;
    let keyOf: (row: Row) => OrderKey;
    if (sort === 'TITLE' || sort === 'AUTHOR') {
      const column = Prisma.raw(sort === 'TITLE' ? 'b."title"' : 'b."sortAuthor"');
      order = Prisma.sql`${column}, b."id"`;
      if (after) {
        if (!isString(after[0]) || !isUuidText(after[1])) throw invalidCursor();
        afterSql = Prisma.sql`(${column}, b."id") > (${after[0]}, ${after[1]}::uuid)`;
      }
      keyOf = (row) => [sort === 'TITLE' ? row.title : row.sortAuthor, row.id];
    } else {
      const desc = sort === 'NEWEST';
      order = Prisma.sql`b."publishedYear" ${Prisma.raw(desc ? 'DESC' : 'ASC')} NULLS LAST, b."id"`;
      if (after) {
        const [year, id] = after;
        if (!isUuidText(id)) throw invalidCursor();
        if (year === null) afterSql = Prisma.sql`(b."publishedYear" IS NULL AND b."id" > ${id}::uuid)`;
        else if (!isInt(year)) throw invalidCursor();
        else {
          afterSql = Prisma.sql`(b."publishedYear" ${Prisma.raw(desc ? '<' : '>')} ${year} OR (b."publishedYear" = ${year} AND b."id" > ${id}::uuid) OR b."publishedYear" IS NULL)`;
        }
      }
      keyOf = (row) => [row.publishedYear, row.id];
    }
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT ${BOOK_COLUMNS} FROM "Book" b WHERE ${where} AND ${afterSql} ORDER BY ${order} LIMIT ${input.first + 1}`;
    return { rows, cursorOf: (row) => encodeCursor(kind, keyOf(row)) };
  }

  /** Exact up to COUNT_CAP matches; COUNT_CAP when there are more (browsing without a query). */
  private async count(where: Prisma.Sql): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT FROM "Book" b WHERE ${where} LIMIT ${COUNT_CAP}) s`;
    return row?.n ?? 0;
  }

  /** Facet counts over the matches (the FACET_SAMPLE most popular ones when there are more), browsing without a query. */
  private async facets(where: Prisma.Sql): Promise<BookFacets> {
    const rows = await this.prisma.$queryRaw<{ facet: 'genres' | 'authors' | 'languages'; value: string; n: number }[]>`
      WITH sample AS MATERIALIZED (
        SELECT b."genres", b."authors", b."language" FROM "Book" b WHERE ${where}
        ORDER BY b."popularity" DESC, b."id" LIMIT ${FACET_SAMPLE}
      ), counted AS (
        SELECT 'genres' AS facet, g AS value, count(*)::int AS n FROM sample, unnest(sample."genres") g GROUP BY g
        UNION ALL
        SELECT 'authors', a, count(*)::int FROM sample, unnest(sample."authors") a GROUP BY a
        UNION ALL
        SELECT 'languages', sample."language", count(*)::int FROM sample GROUP BY sample."language"
      ), ranked AS (
        SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS place FROM counted
      )
      SELECT facet, value, n FROM ranked WHERE place <= ${FACET_VALUES} ORDER BY facet, place`;
    const facets: BookFacets = { genres: [], authors: [], languages: [] };
    for (const r of rows) facets[r.facet].push({ value: r.value, count: r.n });
    return facets;
  }
}

/** Control characters (NUL included) become spaces; the result is trimmed. */
function clean(text: string | null | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

function invalidCursor() {
  return badInput('The "after" cursor is not valid for this list. Use an endCursor this list returned.');
}

/** The filters as SQL, every value a bound parameter. */
function filterSql(input: BookSearchInput): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  const author = clean(input.author);
  if (author) parts.push(Prisma.sql`b."authorsText" ILIKE ${`%${likeEscape(author)}%`}`);
  if (input.genre) parts.push(Prisma.sql`b."genres" @> ARRAY[${clean(input.genre)}]::text[]`);
  if (input.language) parts.push(Prisma.sql`b."language" = ${clean(input.language)}`);
  if (input.availableOnly) {
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "Copy" c WHERE c."bookId" = b."id" AND c."status" = 'AVAILABLE')`);
  }
  if (input.publishedFrom !== null && input.publishedFrom !== undefined)
    parts.push(Prisma.sql`b."publishedYear" >= ${input.publishedFrom}`);
  if (input.publishedTo !== null && input.publishedTo !== undefined) parts.push(Prisma.sql`b."publishedYear" <= ${input.publishedTo}`);
  return parts.length > 0 ? Prisma.join(parts, ' AND ') : Prisma.sql`true`;
}

/** A short digest of the query and filters: cursors are only valid for the search that made them. */
function digest(query: string, input: BookSearchInput): string {
  const key = JSON.stringify([
    query,
    clean(input.author) || null,
    input.genre ? clean(input.genre) : null,
    input.language ? clean(input.language) : null,
    input.availableOnly ?? null,
    input.publishedFrom ?? null,
    input.publishedTo ?? null,
  ]);
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}
