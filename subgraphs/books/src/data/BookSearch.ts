import { createHash } from 'node:crypto';
import { badInput, decodeCursor, encodeCursor, MAX_PAGE_SIZE, toConnection } from '@shelfwise/kit';
import { Prisma } from '../generated/prisma/client.js';
import { parseIsbn } from '../isbn.js';
import type { BookModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/**
 * Catalogue search (docs/api.md, "Search"): ranked full-text search over title, authors, genres and
 * description, tolerant of typos and unfinished words, with filters, keyset pagination and facets.
 *
 * How a query becomes SQL, in three statements at most (plus one for facets when they are selected):
 *
 * 1. Words. PostgreSQL's own text parser splits the query (so the query and the books are split the same
 *    way); the last word is a prefix ("tolki" finds Tolkien), searched as the vocabulary's words that start
 *    with it when there are few. A word that no book contains is replaced by up to three words of the
 *    catalogue's vocabulary (`SearchWord`) that look like it (pg_trgm similarity; "pottr" → potter). Each
 *    word becomes a tsquery built here (each lexeme quoted) and passed as a bound parameter: nothing the
 *    user typed is ever an operator or part of the SQL text. The same statement reads ANALYZE's lexeme
 *    frequencies once a minute.
 * 2. The page. A book matches when its search document matches every word and the markers of the genre,
 *    language and closed year-range filters (migration 20261123232500_search_filters; one GIN scan key
 *    each), or its title equals the query (ignoring case and punctuation), or its ISBN is the query.
 *    RELEVANCE ranks the `RANK_WINDOW` most popular word matches (found by `mostPopular`: the popularity
 *    index for frequent searches, every match for rare ones, popularity tiers in between) plus every exact
 *    title/ISBN match by a deterministic integer score; exact matches come first. Matches beyond the
 *    window follow in popularity order. Other sorts are plain keyset orders.
 * 3. The count: exact up to `COUNT_CAP`, reported as `COUNT_CAP` above it.
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
  /** Facets are computed only when asked for. */
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
/** A closed year range is searched through Y:/D:/C: markers when it takes at most this many of them. */
const MAX_YEAR_MARKERS = 16;

/** `marked.word` as a LIKE prefix pattern, its `\`, `%` and `_` escaped (SQL text, no user input). */
const LIKE_PREFIX_OF_WORD = Prisma.raw(`replace(replace(replace(marked."word", '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`);

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

/** One word of the query after typo correction: what the tsquery asks for. */
export interface SearchTerm {
  word: string;
  /** The last word also matches longer words that start with it. */
  prefix: boolean;
  /** Words of the catalogue tried instead (empty when the word itself occurs). */
  alternatives: string[];
  /**
   * For the prefix word: the catalogue's words that start with it, when there are at most
   * `MAX_COMPLETIONS` (searched as exact words, which GIN intersects cheaply); null when there are more
   * (searched as a tsquery prefix, which GIN has to collect in full).
   */
  completions?: string[] | null;
}

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
  const boundaryOk = boundary === null || (Array.isArray(boundary) && boundary.length === 2 && isInt(boundary[0]) && isString(boundary[1]));
  if (!boundaryOk || !Array.isArray(key)) return false;
  if (phase === 0) return key.length === 3 && (key[0] === 0 || key[0] === 1) && isInt(key[1]) && isString(key[2]);
  return phase === 1 && boundary !== null && key.length === 2 && isInt(key[0]) && isString(key[1]);
}
const isOrderKey = (v: unknown): v is OrderKey =>
  Array.isArray(v) && v.length === 2 && (isString(v[0]) || isInt(v[0]) || v[0] === null) && isString(v[1]);

/** `\`, `%` and `_` escaped for LIKE / ILIKE (with the default escape character). */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A word as a tsquery operand: single-quoted, quotes doubled and backslashes escaped (tsquery's own syntax). */
function tsqueryWord(word: string, prefix: boolean): string {
  return `'${word.replace(/\\/g, '\\\\').replace(/'/g, "''")}'${prefix ? ':*' : ''}`;
}

/** The tsquery text of each term: a corrected term matches any of its alternatives, the last word its completions. */
export function termTsqueries(terms: SearchTerm[]): string[] {
  return terms.map((t) => {
    if (t.alternatives.length > 0) return `(${t.alternatives.map((a) => tsqueryWord(a, false)).join(' | ')})`;
    if (t.prefix && t.completions) {
      const words = [...new Set([t.word, ...t.completions])];
      return words.length === 1 ? tsqueryWord(t.word, false) : `(${words.map((w) => tsqueryWord(w, false)).join(' | ')})`;
    }
    return tsqueryWord(t.word, t.prefix);
  });
}

/** The tsquery text for the terms: every term must match. */
export function buildTsquery(terms: SearchTerm[]): string | null {
  return terms.length === 0 ? null : termTsqueries(terms).join(' & ');
}

/**
 * The markers (migration 20261123232500_search_filters) that a book matching the filters must carry, as
 * tsquery text, and the filters they stand for exactly (those need no other check). Genre and language
 * always; years only for a closed range within 0–9999 that few markers cover.
 */
export function filterMarkers(input: BookSearchInput): {
  tsquery: string[];
  /** The single markers every match carries (genre, language), for the estimate. */
  lexemes: string[];
  genre: boolean;
  language: boolean;
  years: boolean;
} {
  const tsquery: string[] = [];
  const lexemes: string[] = [];
  const genre = clean(input.genre);
  const language = clean(input.language);
  const useGenre = genre !== '' && Buffer.byteLength(genre) < 990;
  const useLanguage = language !== '' && Buffer.byteLength(language) < 990;
  if (useGenre) lexemes.push(`G:${genre}`);
  if (useLanguage) lexemes.push(`L:${language}`);
  tsquery.push(...lexemes.map((m) => tsqueryWord(m, false)));
  const cover = yearCover(input.publishedFrom, input.publishedTo);
  if (cover) tsquery.push(cover.length === 0 ? tsqueryWord('S:none', false) : `(${cover.map((m) => tsqueryWord(m, false)).join(' | ')})`);
  return { tsquery, lexemes, genre: useGenre, language: useLanguage, years: cover !== null };
}

/**
 * The fewest Y:/D:/C: markers whose years are exactly from–to (an empty list for an empty range), or null
 * when the range is open, leaves 0–9999, or needs more than MAX_YEAR_MARKERS of them.
 */
export function yearCover(from: number | null | undefined, to: number | null | undefined): string[] | null {
  if (from === null || from === undefined || to === null || to === undefined) return null;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > 9999) return null;
  const markers: string[] = [];
  let year = from;
  while (year <= to) {
    if (year % 100 === 0 && year + 99 <= to) {
      markers.push(`C:${year / 100}`);
      year += 100;
    } else if (year % 10 === 0 && year + 9 <= to) {
      markers.push(`D:${year / 10}`);
      year += 10;
    } else {
      markers.push(`Y:${year}`);
      year += 1;
    }
    if (markers.length > MAX_YEAR_MARKERS) return null;
  }
  return markers;
}

/** How long the lexeme statistics are reused before they are read again. */
const STATS_TTL_MS = 60_000;

interface LexemeStats {
  freqs: Map<string, number>;
  missing: number;
  books: number;
}

export class BookSearch {
  /** ANALYZE's lexeme frequencies as last read (null: never read yet), for choosing the popularity tier. */
  private stats: { at: number; value: LexemeStats | null } | null = null;

  constructor(private readonly prisma: PrismaClient) {}

  /**
   * The query's words as the books' search documents spell them, with typo corrections (one statement).
   * Only word tokens count: punctuation, operators and quotes the user typed are separators.
   */
  async terms(query: string, markers: string[] = []): Promise<{ terms: SearchTerm[]; estimate: Estimate | null }> {
    // The statistics ride along with the words once a minute (they change only when ANALYZE runs).
    const fetchStats = this.stats === null || performance.now() - this.stats.at > STATS_TTL_MS;
    const rows = await this.prisma.$queryRaw<
      {
        word: string;
        prefix: boolean;
        completions: string[] | null;
        alternatives: string[];
        elems?: string[] | null;
        freqs?: number[] | null;
        books?: number | null;
      }[]
    >`
      WITH tokens AS (
        -- The default parser's word tokens (asciiword, word, numword, the parts of hyphenated words, integers)
        -- through the 'simple' dictionary, as to_tsvector('simple', …) reads the books.
        SELECT t.ord, (ts_lexize('simple', t.token))[1] AS word
        FROM ts_parse('default', ${query}) WITH ORDINALITY AS t(tokid, token, ord)
        WHERE t.tokid IN (1, 2, 3, 9, 10, 11, 21, 22)
        ORDER BY t.ord
        LIMIT ${MAX_WORDS}
      ), marked AS (
        SELECT ord, word, ord = max(ord) OVER () AS prefix FROM tokens
      ), known AS (
        SELECT ord, word, prefix,
               -- The last word's completions (one more than are used, to tell "too many").
               CASE WHEN prefix THEN ARRAY(SELECT w."word" FROM "SearchWord" w WHERE w."word" LIKE ${LIKE_PREFIX_OF_WORD}
                                           ORDER BY w."word" LIMIT ${MAX_COMPLETIONS + 1}) END AS completions,
               EXISTS (SELECT 1 FROM "SearchWord" w WHERE w."word" = marked.word) AS present
        FROM marked
      ), resolved AS (
        SELECT ord, word, prefix, completions,
               CASE WHEN present OR cardinality(completions) > 0 OR length(word) < 3 THEN ARRAY[]::text[]
                    ELSE ARRAY(SELECT w."word" FROM "SearchWord" w WHERE w."word" % known.word
                               ORDER BY similarity(w."word", known.word) DESC, w."word" LIMIT ${TYPO_ALTERNATIVES}) END AS alternatives
        FROM known
      )
      SELECT r.word, r.prefix, r.completions, r.alternatives
      ${
        fetchStats
          ? // ANALYZE's most common lexemes of the search documents, their frequencies and the least of them
            // (none before the first ANALYZE), and the number of books.
            Prisma.sql`, (SELECT s.most_common_elems::text::text[] FROM pg_stats s
                          WHERE s.schemaname = current_schema() AND s.tablename = 'Book' AND s.attname = 'searchVector' LIMIT 1) AS elems,
                       (SELECT s.most_common_elem_freqs::float8[] FROM pg_stats s
                          WHERE s.schemaname = current_schema() AND s.tablename = 'Book' AND s.attname = 'searchVector' LIMIT 1) AS freqs,
                       (SELECT c.reltuples::float8 FROM pg_class c WHERE c.oid = '"Book"'::regclass) AS books`
          : Prisma.empty
      }
      FROM resolved r ORDER BY r.ord`;
    const terms = rows.map((r) => ({
      word: r.word,
      prefix: r.prefix,
      alternatives: r.alternatives,
      completions: r.prefix && r.completions && r.completions.length <= MAX_COMPLETIONS ? r.completions : null,
    }));
    const first = rows[0];
    if (fetchStats && first) {
      const elems = first.elems ?? [];
      const freqs = first.freqs ?? [];
      this.stats = {
        at: performance.now(),
        value:
          elems.length > 0 && (first.books ?? 0) > 0
            ? {
                freqs: new Map(elems.map((e, i) => [e, freqs[i] ?? 0])),
                // PostgreSQL's own guess for a lexeme missing from the list: half the least listed frequency.
                missing: (freqs[elems.length] ?? 0) / 2,
                books: first.books!,
              }
            : null,
      };
    }
    const stats = this.stats?.value;
    if (!stats) return { terms, estimate: null };
    const share = (lexemes: string[]) => {
      const sum = lexemes.reduce((a, l) => a + (stats.freqs.get(l) ?? 0), 0);
      return Math.min(1, sum > 0 ? sum : stats.missing);
    };
    return {
      terms,
      estimate: {
        books: stats.books,
        terms: rows.map((r) =>
          share(r.alternatives.length > 0 ? r.alternatives : r.prefix ? [r.word, ...(r.completions ?? [])] : [r.word]),
        ),
        markers: markers.map((m) => share([m])),
      },
    };
  }

  async search(input: BookSearchInput): Promise<BookPage> {
    if (!SORTS.includes(input.sort)) throw badInput(`Unknown sort "${String(input.sort)}": use one of ${SORTS.join(', ')}.`);
    if (!Number.isInteger(input.first) || input.first < 1 || input.first > MAX_PAGE_SIZE) {
      throw badInput(`"first" must be between 1 and ${MAX_PAGE_SIZE}; ask for the next page with "after" instead.`);
    }
    // NUL cannot be stored or compared in PostgreSQL text; control characters are never meaningful here.
    const query = clean(input.query);
    const hasQuery = query !== '';
    // RELEVANCE needs something to be relevant to: without a query it is the title order.
    const sort: BookSortKey = input.sort === 'RELEVANCE' && !hasQuery ? 'TITLE' : input.sort;
    const kind = `books:${sort}:${digest(query, input)}`;

    const filters = Prisma.sql`b."withdrawnAt" IS NULL AND ${filterSql(input)}`;
    if (!hasQuery) {
      const where = filters;
      const [rows, totalCount] = await Promise.all([
        this.orderedPage(where, sort as Exclude<BookSortKey, 'RELEVANCE'>, kind, input),
        this.count(where),
      ]);
      return { ...toConnection(rows.rows, input.first, totalCount, rows.cursorOf), facets: () => this.facets(where) };
    }

    const markers = filterMarkers(input);
    const tierMarkers = POPULARITY_TIERS.map((t) => `P:${t}`);
    const { terms, estimate } = await this.terms(query, [...markers.lexemes, ...tierMarkers]);
    const userTsquery = buildTsquery(terms);
    const titleKey = Prisma.sql`nullif(shelfwise_title_key(${query}), '')`;
    const isbn = parseIsbn(query);
    const exactMatch = Prisma.sql`(b."titleKey" = ${titleKey} OR b."isbn" = ${isbn.ok ? isbn.isbn13 : null}::text)`;
    // The flag is never NULL (NOT NULL is NULL would drop the row).
    const exact = Prisma.sql`coalesce(${exactMatch}, false)`;
    const exactWhere = Prisma.sql`${exactMatch} AND ${filters}`;
    // The word matches: the query's words and the filters' markers (GIN scan keys), plus the filters no
    // marker stands for.
    const words: Words | null =
      userTsquery === null
        ? null
        : {
            tsqueries: [...termTsqueries(terms), ...markers.tsquery],
            residual: Prisma.sql`b."withdrawnAt" IS NULL AND ${filterSql(input, markers)}`,
            startTier: (limit) => startTier(estimate, markers.lexemes.length, limit),
          };
    const score =
      userTsquery === null
        ? Prisma.sql`0`
        : Prisma.sql`round(1000000 * (ts_rank('{0.1, 0.2, 0.4, 1.0}'::float4[], b."searchVector", ${userTsquery}::tsquery)
                                 + 0.5 * similarity(b."titleKey", coalesce(${titleKey}, ''))))::int`;
    const where = Prisma.sql`(${words ? wordsSql(words) : Prisma.sql`false`} OR (${exactWhere}))`;

    const page =
      sort === 'RELEVANCE' ? this.relevancePage(words, exactWhere, exact, score, kind, input) : this.orderedPage(where, sort, kind, input);
    const [rows, totalCount] = await Promise.all([page, this.countText(words, exactWhere)]);
    return {
      ...toConnection(rows.rows, input.first, totalCount, rows.cursorOf),
      facets: () => this.facetsText(words, exactWhere),
    };
  }

  /** Exact up to COUNT_CAP matches; COUNT_CAP when there are more. */
  private async count(where: Prisma.Sql): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT FROM "Book" b WHERE ${where} LIMIT ${COUNT_CAP}) s`;
    return row?.n ?? 0;
  }

  /**
   * count() for a text search: the word matches (up to COUNT_CAP of them) plus the exact title/ISBN
   * matches that are not among them.
   */
  private async countText(words: Words | null, exactWhere: Prisma.Sql): Promise<number> {
    const matching = words ? wordsSql(words) : Prisma.sql`false`;
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT least(${COUNT_CAP}::int,
                   (SELECT count(*) FROM (SELECT FROM "Book" b WHERE ${matching} LIMIT ${COUNT_CAP}) s)
                   + (SELECT count(*) FROM "Book" b WHERE ${exactWhere} AND NOT coalesce(${matching}, false)))::int AS n`;
    return row?.n ?? 0;
  }

  private async relevancePage(
    words: Words | null,
    /** The exact title/ISBN matches (an index lookup, never a scan). */
    exactWhere: Prisma.Sql,
    exact: Prisma.Sql,
    score: Prisma.Sql,
    kind: string,
    input: BookSearchInput,
  ): Promise<{ rows: Row[]; cursorOf: (row: Row) => string }> {
    const after = decodeCursor(kind, input.after, isRelevanceKey);
    const limit = input.first + 1;
    // The window: the RANK_WINDOW most popular word matches (page 1), or every word match up to the boundary
    // the first page found (later pages), so every page ranks the same set. Exact matches join it below.
    const boundary = after?.boundary ?? null;
    const headAfter =
      after === undefined
        ? Prisma.sql`true`
        : after.phase === 1
          ? Prisma.sql`false`
          : Prisma.sql`(c.exact < ${after.key[0]}
                       OR (c.exact = ${after.key[0]} AND c.score < ${after.key[1]})
                       OR (c.exact = ${after.key[0]} AND c.score = ${after.key[1]} AND c."id" > ${after.key[2]}::uuid))`;
    const tailAfter =
      after?.phase === 1
        ? Prisma.sql`AND b."popularity" <= ${after.key[0]} AND (b."popularity" < ${after.key[0]} OR b."id" > ${after.key[1] as string}::uuid)`
        : Prisma.empty;
    type Ranked = Row & { phase: number; exact: number; score: number };
    let rows: Ranked[] = [];
    let bound: [number, string] | null = boundary;
    // The head: the ranked window (skipped once a cursor is past it). Statement one.
    if (after?.phase !== 1) {
      let window: Prisma.Sql;
      if (!words) {
        window = Prisma.sql`win AS (SELECT NULL::uuid AS "id", 0 AS "popularity" WHERE false)`;
      } else if (boundary) {
        // Every book within the boundary has at least its popularity: the tier marker narrows the GIN lookup.
        const tier = POPULARITY_TIERS.find((t) => t <= boundary[0]);
        window = Prisma.sql`win AS MATERIALIZED (
          SELECT b."id", b."popularity" FROM "Book" b
          WHERE ${wordsSql(words, tier)}
            AND b."popularity" >= ${boundary[0]} AND (b."popularity" > ${boundary[0]} OR b."id" <= ${boundary[1]}::uuid))`;
      } else {
        window = Prisma.sql`${mostPopular('win', words, RANK_WINDOW)}`;
      }
      // Scores are computed for the window and the exact matches only; only the page's rows are read in full.
      const head = await this.prisma.$queryRaw<(Ranked & { boundary: string[] | null })[]>`
        WITH ${window}, edge AS (
          SELECT CASE WHEN (SELECT count(*) FROM win) >= ${RANK_WINDOW}
                      THEN (SELECT ARRAY[w."popularity"::text, w."id"::text] FROM win w ORDER BY w."popularity", w."id" DESC LIMIT 1) END AS boundary
        ), cand AS (
          SELECT "id" FROM win
          UNION
          SELECT b."id" FROM "Book" b WHERE ${exactWhere}
        ), scored AS (
          SELECT b."id", (${exact})::int AS exact, ${score} AS score FROM cand JOIN "Book" b ON b."id" = cand."id"
        ), top AS (
          SELECT c."id", c.exact, c.score FROM scored c
          WHERE ${headAfter}
          ORDER BY c.exact DESC, c.score DESC, c."id"
          LIMIT ${limit}
        )
        SELECT ${BOOK_COLUMNS}, 0 AS phase, top.exact, top.score, (SELECT boundary FROM edge) AS boundary
        FROM top JOIN "Book" b ON b."id" = top."id"
        ORDER BY top.exact DESC, top.score DESC, b."id"`;
      if (!boundary && head[0]?.boundary) bound = [Number(head[0].boundary[0]), String(head[0].boundary[1])];
      if (!boundary && head.length === 0 && !after) bound = null;
      rows = head.map(({ boundary: _boundary, ...row }) => row);
    }
    // The tail: word matches after the window, in popularity order, only once the window is used up (a page
    // that reaches past it). The boundary is a literal here, so the popularity index starts right at it.
    if (rows.length < limit && bound && words) {
      const tail = await this.prisma.$queryRaw<Ranked[]>`
        SELECT ${BOOK_COLUMNS}, 1 AS phase, 0 AS exact, b."popularity" AS score
        FROM "Book" b
        WHERE ${wordsSql(words)} AND NOT ${exact}
          AND b."popularity" <= ${bound[0]} AND (b."popularity" < ${bound[0]} OR b."id" > ${bound[1]}::uuid)
          ${tailAfter}
        ORDER BY b."popularity" DESC, b."id"
        LIMIT ${limit - rows.length}`;
      rows = [...rows, ...tail];
    }
    return {
      rows,
      cursorOf: (row) => {
        const key: RelevanceKey =
          row.phase === 0
            ? { phase: 0, key: [Number(row.exact), Number(row.score), row.id], boundary: bound }
            : { phase: 1, key: [Number(row.score), row.id], boundary: bound };
        return encodeCursor(kind, key);
      },
    };
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
        if (!isString(after[0])) throw invalidCursor();
        afterSql = Prisma.sql`(${column}, b."id") > (${after[0]}, ${after[1]}::uuid)`;
      }
      keyOf = (row) => [sort === 'TITLE' ? row.title : row.sortAuthor, row.id];
    } else {
      const desc = sort === 'NEWEST';
      order = Prisma.sql`b."publishedYear" ${Prisma.raw(desc ? 'DESC' : 'ASC')} NULLS LAST, b."id"`;
      if (after) {
        const [year, id] = after;
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

  /** Facet counts over the matches (the FACET_SAMPLE most popular ones when there are more). */
  private facets(where: Prisma.Sql): Promise<BookFacets> {
    return this.facetCounts(Prisma.sql`sample AS MATERIALIZED (
        SELECT b."genres", b."authors", b."language" FROM "Book" b WHERE ${where}
        ORDER BY b."popularity" DESC, b."id" LIMIT ${FACET_SAMPLE})`);
  }

  /** facets() for a text search: the most popular word matches, tier by tier, and the exact matches. */
  private facetsText(words: Words | null, exactWhere: Prisma.Sql): Promise<BookFacets> {
    const sampled = words
      ? mostPopular('fac', words, FACET_SAMPLE)
      : Prisma.sql`fac AS (SELECT NULL::uuid AS "id", 0 AS "popularity" WHERE false)`;
    return this.facetCounts(Prisma.sql`${sampled}, picked AS (
        SELECT "id", "popularity" FROM fac
        UNION
        SELECT b."id", b."popularity" FROM "Book" b WHERE ${exactWhere}
      ), sample AS MATERIALIZED (
        SELECT b."genres", b."authors", b."language"
        FROM (SELECT "id" FROM picked ORDER BY "popularity" DESC, "id" LIMIT ${FACET_SAMPLE}) p JOIN "Book" b ON b."id" = p."id")`);
  }

  /** The facet counts of the rows of the CTE `sample` (genres, authors, language) that `sampleCtes` defines. */
  private async facetCounts(sampleCtes: Prisma.Sql): Promise<BookFacets> {
    const rows = await this.prisma.$queryRaw<{ facet: 'genres' | 'authors' | 'languages'; value: string; n: number }[]>`
      WITH ${sampleCtes}, counted AS (
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

/** The word matches of a text search: `searchVector @@ tsquery AND residual`. */
interface Words {
  /**
   * One tsquery per word of the query and per marker of the filters (each a bound parameter): separate
   * conditions are separate GIN scan keys, which GIN intersects by skipping through the longer posting
   * lists, where one tsquery of them all walks a frequent word's whole list.
   */
  tsqueries: string[];
  /** The filters no marker stands for, as SQL. */
  residual: Prisma.Sql;
  /** Where mostPopular() starts: an index into POPULARITY_TIERS, or its length for "every match at once". */
  startTier: (limit: number) => number;
}

/** The statistics' view of a search: how many books, and the share of them each term and marker matches. */
export interface Estimate {
  books: number;
  terms: number[];
  /** The filter markers' shares, then the popularity tiers' (in POPULARITY_TIERS order). */
  markers: number[];
}

/**
 * The first popularity tier worth trying for `limit` matches, from the statistics (independent terms):
 * - no statistics (before ANALYZE): the top tier;
 * - a search matching at least 5% of the books, or at most ten pages of `limit`: no tier (PostgreSQL then
 *   walks the popularity index, or reads every match, whichever it judges cheaper, and both are cheap);
 * - otherwise the first tier expected to hold 1.5 × `limit` matches (later tiers follow when it holds fewer).
 */
export function startTier(estimate: Estimate | null, filterMarkerCount: number, limit: number): number {
  if (!estimate) return 0;
  const share = [...estimate.terms, ...estimate.markers.slice(0, filterMarkerCount)].reduce((a, f) => a * f, 1);
  const expected = share * estimate.books;
  if (share >= 0.05 || expected <= 10 * limit) return POPULARITY_TIERS.length;
  const tiers = estimate.markers.slice(filterMarkerCount);
  const at = POPULARITY_TIERS.findIndex((_, i) => (tiers[i] ?? 0) * expected >= 1.5 * limit);
  return at === -1 ? POPULARITY_TIERS.length : at;
}

/** The condition for the word matches, narrowed to the books at or above a popularity tier when given. */
function wordsSql(words: Words, tier?: number): Prisma.Sql {
  const tsqueries = tier === undefined ? words.tsqueries : [...words.tsqueries, tsqueryWord(`P:${tier}`, false)];
  const keys = tsqueries.map((q) => Prisma.sql`b."searchVector" @@ ${q}::tsquery`);
  const atLeast = tier === undefined ? Prisma.empty : Prisma.sql`AND b."popularity" >= ${tier}`;
  return Prisma.sql`(${Prisma.join(keys, ' AND ')} ${atLeast} AND ${words.residual})`;
}

/**
 * CTEs that end in `name`: the `limit` most popular word matches ("id", "popularity"; popularity, then id).
 * The tiers are tried from the one `words.startTier` picks down (`name0` its books, …), each a GIN
 * intersection that reads only its tier's matches; the first tier with `limit` matches answers and the
 * later ones are not run (their gate is false), and the last one is every word match (where PostgreSQL may
 * as well walk the popularity index). The tiers are nested
 * and a tier's books all outrank the books outside it, so the answer is the same as ordering every match.
 */
function mostPopular(name: string, words: Words, limit: number): Prisma.Sql {
  const tiers: (number | undefined)[] = [...POPULARITY_TIERS, undefined].slice(words.startTier(limit));
  const ctes = tiers.map((tier, i) => {
    const self = Prisma.raw(`${name}${i}`);
    const scan = (gate: Prisma.Sql) => Prisma.sql`SELECT b."id", b."popularity" FROM "Book" b
        WHERE ${gate} AND ${wordsSql(words, tier)}
        ORDER BY b."popularity" DESC, b."id" LIMIT ${limit}`;
    if (i === 0) return Prisma.sql`${self} AS MATERIALIZED (${scan(Prisma.sql`true`)})`;
    const previous = Prisma.raw(`${name}${i - 1}`);
    return Prisma.sql`${self} AS MATERIALIZED (
        SELECT "id", "popularity" FROM ${previous} WHERE (SELECT count(*) FROM ${previous}) >= ${limit}
        UNION ALL
        (${scan(Prisma.sql`(SELECT count(*) FROM ${previous}) < ${limit}`)}))`;
  });
  return Prisma.sql`${Prisma.join(ctes, ',\n')}, ${Prisma.raw(name)} AS (SELECT "id", "popularity" FROM ${Prisma.raw(`${name}${tiers.length - 1}`)})`;
}

/** Control characters (NUL included) become spaces; the result is trimmed. */
function clean(text: string | null | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

function invalidCursor() {
  return badInput('The "after" cursor is not valid for this list. Use an endCursor this list returned.');
}

/** The filters as SQL (every value a bound parameter), but those the given markers already stand for. */
function filterSql(input: BookSearchInput, markers?: { genre: boolean; language: boolean; years: boolean }): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  const author = clean(input.author);
  if (author) parts.push(Prisma.sql`b."authorsText" ILIKE ${`%${likeEscape(author)}%`}`);
  if (input.genre && !markers?.genre) parts.push(Prisma.sql`b."genres" @> ARRAY[${clean(input.genre)}]::text[]`);
  if (input.language && !markers?.language) parts.push(Prisma.sql`b."language" = ${clean(input.language)}`);
  if (input.availableOnly) {
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "Copy" c WHERE c."bookId" = b."id" AND c."status" = 'AVAILABLE')`);
  }
  if (!markers?.years) {
    if (input.publishedFrom !== null && input.publishedFrom !== undefined)
      parts.push(Prisma.sql`b."publishedYear" >= ${input.publishedFrom}`);
    if (input.publishedTo !== null && input.publishedTo !== undefined) parts.push(Prisma.sql`b."publishedYear" <= ${input.publishedTo}`);
  }
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
