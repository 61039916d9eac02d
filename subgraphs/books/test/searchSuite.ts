import { InMemoryBus, type ServiceOptions } from '@shelfwise/kit';
import { graphql } from '@shelfwise/testkit';
import { generateBooks, insertBooks, isbn13From12, type BookRow } from '../src/catalog/index.js';
import { COUNT_CAP, FACET_SAMPLE, FACET_VALUES, RANK_WINDOW } from '../src/data/BookSearch.js';
import { start, type BooksHandle } from '../src/server.js';

interface SearchNode {
  id: string;
  title: string;
  authors: string[];
  genres: string[];
  language: string;
  publishedYear: number | null;
}
interface Facet {
  value: string;
  count: number;
}
interface SearchResult {
  books: {
    edges: { cursor: string; node: SearchNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
    facets?: { genres: Facet[]; authors: Facet[]; languages: Facet[] };
  };
}
interface Filter {
  author?: string;
  genre?: string;
  language?: string;
  availableOnly?: boolean;
  publishedFrom?: number;
  publishedTo?: number;
}

const SEARCH = `
  query Search($query: String, $filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {
    books(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
      edges { cursor node { id title authors genres language publishedYear } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }`;
const SEARCH_WITH_FACETS = SEARCH.replace(
  'totalCount',
  'totalCount facets { genres { value count } authors { value count } languages { value count } }',
);

const isbn = (n: number) => isbn13From12(`978${String(100_000_000 + n).padStart(9, '0')}`);
/** ISBN-10 of the ISBN-13 978XXXXXXXXX? (same nine digits), hyphenated as printed. */
function isbn10Of(isbn13: string): string {
  const nine = isbn13.slice(3, 12);
  const sum = [...nine].reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
  const check = (11 - (sum % 11)) % 11;
  return `${nine.slice(0, 1)}-${nine.slice(1, 4)}-${nine.slice(4)}-${check === 10 ? 'X' : check}`;
}

/** The fixed catalogue: small enough to know every answer. */
export const CATALOG: (BookRow & { key: string })[] = [
  {
    key: 'hp1',
    isbn: isbn(1),
    title: "Harry Potter and the Philosopher's Stone",
    authors: ['J. K. Rowling'],
    genres: ['Fantasy', 'Children'],
    publishedYear: 1997,
    language: 'en',
    description: 'A boy learns on his eleventh birthday that he is a wizard.',
    copies: 3,
    popularity: 9000,
  },
  {
    key: 'hp2',
    isbn: isbn(2),
    title: 'Harry Potter and the Chamber of Secrets',
    authors: ['J. K. Rowling'],
    genres: ['Fantasy', 'Children'],
    publishedYear: 1998,
    language: 'en',
    description: 'The second year at the school of wizardry.',
    copies: 2,
    popularity: 8000,
  },
  {
    key: 'guide',
    isbn: isbn(3),
    title: 'A Guide to Fantasy Fiction',
    authors: ['Nora Critic'],
    genres: ['Fantasy', 'Reference'],
    publishedYear: 2010,
    language: 'en',
    description: 'From Harry Potter to Earthsea: the wizards, the schools and the quests of modern fantasy.',
    copies: 1,
    popularity: 9500,
  },
  {
    key: 'hobbit',
    isbn: isbn(4),
    title: 'The Hobbit',
    authors: ['J. R. R. Tolkien'],
    genres: ['Fantasy', 'Classics'],
    publishedYear: 1937,
    language: 'en',
    description: 'Bilbo Baggins leaves the Shire for an adventure with dwarves and a dragon.',
    copies: 2,
    popularity: 7000,
  },
  {
    key: 'lotr',
    isbn: isbn(5),
    title: 'The Lord of the Rings',
    authors: ['J. R. R. Tolkien'],
    genres: ['Fantasy', 'Classics'],
    publishedYear: 1954,
    language: 'en',
    description: 'The ring must be destroyed in the fires where it was made.',
    copies: 4,
    popularity: 7500,
  },
  {
    key: 'tolkienBio',
    isbn: isbn(6),
    title: 'Tolkien: A Biography',
    authors: ['Humphrey Carpenter'],
    genres: ['Biography'],
    publishedYear: 1977,
    language: 'en',
    description: 'The life of the professor who wrote about hobbits.',
    copies: 1,
    popularity: 100,
  },
  {
    key: 'cookbook',
    isbn: isbn(7),
    title: 'The Hobbit Cookbook',
    authors: ['Mira Baker'],
    genres: ['Cooking'],
    publishedYear: 2015,
    language: 'en',
    description: 'Second breakfast, elevenses and seed cake.',
    copies: 1,
    popularity: 9900,
  },
  {
    key: 'dune',
    isbn: isbn(8),
    title: 'Dune',
    authors: ['Frank Herbert'],
    genres: ['Science Fiction'],
    publishedYear: 1965,
    language: 'en',
    description: 'A desert planet, a spice, a prophecy.',
    copies: 1,
    popularity: 10,
  },
  {
    key: 'duneMessiah',
    isbn: isbn(9),
    title: 'Dune Messiah',
    authors: ['Frank Herbert'],
    genres: ['Science Fiction'],
    publishedYear: 1969,
    language: 'en',
    description: 'Twelve years after Dune, the emperor sees his future.',
    copies: 1,
    popularity: 9999,
  },
  {
    key: 'cien',
    isbn: isbn(10),
    title: 'Cien años de soledad',
    authors: ['Gabriel García Márquez'],
    genres: ['Fiction', 'Magical Realism'],
    publishedYear: 1967,
    language: 'es',
    description: 'La historia de la familia Buendía en Macondo.',
    copies: 2,
    popularity: 5000,
  },
  {
    key: 'prince',
    isbn: isbn(11),
    title: 'Le Petit Prince',
    authors: ['Antoine de Saint-Exupéry'],
    genres: ['Children', 'Fiction'],
    publishedYear: 1943,
    language: 'fr',
    description: 'Un aviateur rencontre un petit prince venu d’une autre planète.',
    copies: 0,
    popularity: 6000,
  },
  {
    key: 'undated',
    isbn: isbn(12),
    title: 'Anonymous Chronicle',
    authors: ['Unknown Scribe'],
    genres: ['History'],
    publishedYear: null,
    language: 'en',
    description: null,
    copies: 1,
    popularity: 0,
  },
  {
    key: 'hostile',
    isbn: isbn(13),
    title: `Robert'); DROP TABLE "Book";-- & the <-> Operator`,
    authors: ['Bobby Tables'],
    genres: ['Humor'],
    publishedYear: 2007,
    language: 'en',
    description: 'Backslashes \\ and quotes \' " in a book about input sanitisation.',
    copies: 1,
    popularity: 50,
  },
];

/** Books made to tie: same title, author and (often) year and popularity; more than one ranking window. */
export const EQUALS = RANK_WINDOW + 120;

interface Expected {
  query?: string;
  filter?: Filter;
}

/**
 * Catalogue search over the books subgraph, run on PGlite (search.test.ts) and on real Postgres
 * (search.postgres.test.ts), so the same SQL is proven on both.
 */
export function describeSearch(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    let books: BooksHandle;
    const ids = new Map<string, string>();
    const twins: BookRow[] = generateBooks(7, 0, EQUALS).map((b, i) => ({
      ...b,
      isbn: isbn(1000 + i),
      title: 'Twin Volume',
      authors: ['Ann Twin'],
      genres: ['Twins'],
      publishedYear: i % 5 === 0 ? null : 2000 + (i % 3),
      language: 'en',
      description: 'Identical in every way.',
      popularity: i % 4,
    }));
    const run = (sql: string, params: unknown[]) => books.database.prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params);
    const search = (variables: Record<string, unknown>, query = SEARCH) => graphql<SearchResult>(books.url, query, variables);
    const titlesOf = (res: { data?: SearchResult | null }) => res.data!.books.edges.map((e) => e.node.title);
    const keyOfId = (id: string) => [...ids].find(([, v]) => v === id)?.[0];

    beforeAll(async () => {
      books = await start({ ...options(), bus: new InMemoryBus() });
      const loaded = await insertBooks(run, CATALOG);
      expect(loaded.books).toBe(CATALOG.length);
      await insertBooks(run, twins);
      const rows = await books.database.prisma.book.findMany({ select: { id: true, isbn: true } });
      for (const book of CATALOG) ids.set(book.key, rows.find((r) => r.isbn === book.isbn)!.id);
    });
    afterAll(async () => {
      await books?.stop();
      await cleanup?.();
    });

    describe('relevance', () => {
      it('ranks title matches above description matches, whatever their popularity', async () => {
        const res = await search({ query: 'harry potter' });
        expect(res.errors).toBeUndefined();
        const keys = res.data!.books.edges.map((e) => keyOfId(e.node.id));
        expect(keys.slice(0, 2).sort()).toEqual(['hp1', 'hp2']);
        expect(keys[2]).toBe('guide');
        expect(res.data!.books.totalCount).toBe(3);
      });

      it('is the default sort when there is a query, and TITLE when there is none', async () => {
        const ranked = await search({ query: 'harry potter' });
        const explicit = await search({ query: 'harry potter', sort: 'RELEVANCE' });
        expect(titlesOf(explicit)).toEqual(titlesOf(ranked));
        const browse = await search({ sort: 'RELEVANCE', first: 5, filter: { genre: 'Fantasy' } });
        expect(titlesOf(browse)).toEqual(
          CATALOG.filter((b) => b.genres.includes('Fantasy'))
            .map((b) => b.title)
            .sort()
            .slice(0, 5),
        );
      });

      it('finds books despite a typo in a word ("harry pottr")', async () => {
        const res = await search({ query: 'harry pottr' });
        const keys = res.data!.books.edges.map((e) => keyOfId(e.node.id));
        expect(keys.slice(0, 2).sort()).toEqual(['hp1', 'hp2']);
        const middle = await search({ query: 'hary potter' });
        expect(middle.data!.books.edges.map((e) => keyOfId(e.node.id))).toContain('hp1');
      });

      it('finds books from the start of a word ("tolki"), title matches first', async () => {
        const res = await search({ query: 'tolki' });
        const keys = res.data!.books.edges.map((e) => keyOfId(e.node.id));
        expect(keys[0]).toBe('tolkienBio');
        expect(keys.slice(1).sort()).toEqual(['hobbit', 'lotr']);
        expect(res.data!.books.totalCount).toBe(3);
      });

      it('puts an exact title first, even over a far more popular near match', async () => {
        const res = await search({ query: 'Dune' });
        expect(titlesOf(res)).toEqual(['Dune', 'Dune Messiah']);
        const hobbit = await search({ query: 'the hobbit' });
        expect(titlesOf(hobbit)[0]).toBe('The Hobbit');
        expect(titlesOf(hobbit)).toContain('The Hobbit Cookbook');
        const punctuation = await search({ query: '  THE   HOBBIT!! ' });
        expect(titlesOf(punctuation)[0]).toBe('The Hobbit');
      });

      it('finds a book by its ISBN-13 or ISBN-10, as printed', async () => {
        const lotr = CATALOG.find((b) => b.key === 'lotr')!;
        const hyphenated = `${lotr.isbn.slice(0, 3)}-${lotr.isbn.slice(3, 4)}-${lotr.isbn.slice(4, 7)}-${lotr.isbn.slice(7, 12)}-${lotr.isbn.slice(12)}`;
        for (const query of [lotr.isbn, hyphenated, isbn10Of(lotr.isbn)]) {
          const res = await search({ query });
          expect(res.errors).toBeUndefined();
          expect(titlesOf(res)[0]).toBe('The Lord of the Rings');
        }
      });

      it('treats accented words and other scripts as words', async () => {
        const res = await search({ query: 'garcía márquez' });
        expect(titlesOf(res)).toEqual(['Cien años de soledad']);
      });

      it('gives the same order every time (deterministic scores)', async () => {
        const first = await search({ query: 'fantasy wizard', first: 10 });
        for (let i = 0; i < 3; i += 1) expect(titlesOf(await search({ query: 'fantasy wizard', first: 10 }))).toEqual(titlesOf(first));
      });

      it('costs one statement for a ranked search, facets included; two for another order or for browsing', async () => {
        const cost = async (variables: Record<string, unknown>, query = SEARCH) => {
          const before = books.database.db.stats.statements;
          const res = await search(variables, query);
          expect(res.errors).toBeUndefined();
          return books.database.db.stats.statements - before;
        };
        expect(await cost({ query: 'harry potter' })).toBe(1);
        expect(await cost({ query: 'harry potter' }, SEARCH_WITH_FACETS)).toBe(1);
        expect(await cost({ query: 'harry potter', filter: { genre: 'Fantasy', language: 'en', publishedFrom: 1990 } })).toBe(1);
        expect(await cost({ query: 'harry potter', sort: 'TITLE' }, SEARCH_WITH_FACETS)).toBe(2);
        expect(await cost({ filter: { genre: 'Fantasy' } })).toBe(2);
        expect(await cost({ filter: { genre: 'Fantasy' } }, SEARCH_WITH_FACETS)).toBe(3);
      });

      it('the same facets whether they come with the page or on their own', async () => {
        const ranked = await search({ query: 'fantasy' }, SEARCH_WITH_FACETS);
        const titled = await search({ query: 'fantasy', sort: 'TITLE' }, SEARCH_WITH_FACETS);
        expect(ranked.data!.books.facets).toEqual(titled.data!.books.facets);
        expect(ranked.data!.books.facets!.genres[0]).toEqual({ value: 'Fantasy', count: 5 });
      });
    });

    describe('lexeme frequencies', () => {
      /** The words' and markers' frequencies as kept by the triggers, and as counted from the books now. */
      async function frequencies() {
        const kept = await run(
          `SELECT "word", "books" FROM (SELECT "word", "books" FROM "SearchWord" UNION ALL SELECT "marker", "books" FROM "SearchMarker") f
           WHERE "books" <> 0 ORDER BY "word"`,
          [],
        );
        const counted = await run(
          `SELECT w AS "word", count(*)::int AS "books" FROM "Book" b, unnest(tsvector_to_array(b."searchVector")) AS w
           WHERE b."withdrawnAt" IS NULL GROUP BY w ORDER BY w`,
          [],
        );
        return { kept, counted };
      }

      it('stay exact through inserts, updates, withdrawals and deletes', async () => {
        let f = await frequencies();
        expect(f.kept).toEqual(f.counted);
        // Markers are counted apart from the words: typo correction never offers one.
        expect(await run(`SELECT "word" FROM "SearchWord" WHERE "word" ~ '^[A-Z]+:'`, [])).toEqual([]);
        const extra: BookRow[] = generateBooks(9, 0, 5).map((b, i) => ({
          ...b,
          isbn: isbn(9000 + i),
          title: `Zyzzyva Volume ${i}`,
          copies: 0,
        }));
        await insertBooks(run, extra);
        try {
          const id = (await books.database.prisma.book.findFirstOrThrow({ where: { isbn: isbn(9000) } })).id;
          await books.database.prisma.book.update({
            where: { id },
            data: { title: 'Quokka Almanac', genres: ['Zoology'], popularity: 9999 },
          });
          await books.database.prisma.book.update({ where: { isbn: isbn(9001) }, data: { withdrawnAt: new Date() } });
          f = await frequencies();
          expect(f.kept).toEqual(f.counted);
          expect(f.kept).toContainEqual({ word: 'quokka', books: 1 });
          expect(f.kept).toContainEqual({ word: 'zyzzyva', books: 3 });
          // The count of a single word is its frequency: the withdrawn book is not counted.
          expect((await search({ query: 'zyzzyva', first: 1 })).data!.books.totalCount).toBe(3);
          expect((await search({ query: 'quokka', first: 1 })).data!.books.totalCount).toBe(1);
        } finally {
          await books.database.prisma.book.deleteMany({ where: { isbn: { in: extra.map((b) => b.isbn) } } });
        }
        f = await frequencies();
        expect(f.kept).toEqual(f.counted);
        expect((await search({ query: 'zyzzyva', first: 1 })).data!.books.totalCount).toBe(0);
      });
    });

    describe('filters and facets', () => {
      /** What the fixed catalogue says the answer is. */
      function expected({ query, filter = {} }: Expected) {
        const rows = CATALOG.filter(
          (b) =>
            (!query || b.genres.concat(b.title).join(' ').toLowerCase().includes(query)) &&
            (!filter.author || b.authors.join(' | ').toLowerCase().includes(filter.author.toLowerCase())) &&
            (!filter.genre || b.genres.includes(filter.genre)) &&
            (!filter.language || b.language === filter.language) &&
            (!filter.availableOnly || b.copies > 0) &&
            (filter.publishedFrom === undefined || (b.publishedYear !== null && b.publishedYear >= filter.publishedFrom)) &&
            (filter.publishedTo === undefined || (b.publishedYear !== null && b.publishedYear <= filter.publishedTo)),
        );
        const tally = (values: string[]) =>
          [...values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>())]
            .map(([value, count]) => ({ value, count }))
            .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        return {
          titles: rows.map((b) => b.title).sort(),
          facets: {
            genres: tally(rows.flatMap((b) => b.genres)),
            authors: tally(rows.flatMap((b) => b.authors)),
            languages: tally(rows.map((b) => b.language)),
          },
        };
      }

      const cases: [string, Expected][] = [
        ['author (part of a name, any case)', { filter: { author: 'TOLK' } }],
        ['genre', { filter: { genre: 'Children' } }],
        ['language', { filter: { language: 'es' } }],
        ['availableOnly', { filter: { availableOnly: true, genre: 'Children' } }],
        ['publishedFrom', { filter: { publishedFrom: 1990, genre: 'Fantasy' } }],
        ['publishedTo', { filter: { publishedTo: 1950, language: 'en' } }],
        ['a query with filters', { query: 'fantasy', filter: { author: 'rowling', publishedFrom: 1998 } }],
        // Genre, language and year ranges are searched as markers in the search document (genre × language,
        // their decades, whole centuries and decades), the years also checked on the row.
        ['a query with a genre (with a space) and a language', { query: 'fiction', filter: { genre: 'Magical Realism', language: 'es' } }],
        ['a query with a closed year range', { query: 'fantasy', filter: { publishedFrom: 1937, publishedTo: 1998 } }],
        ['a query with a one-year range', { query: 'fantasy', filter: { publishedFrom: 1954, publishedTo: 1954 } }],
        ['a query with a range spanning centuries', { query: 'fantasy', filter: { publishedFrom: 999, publishedTo: 2011 } }],
        ['a query with an open range', { query: 'fantasy', filter: { publishedFrom: 1954 } }],
        ['a query with a range open below', { query: 'fantasy', filter: { publishedTo: 1954 } }],
        [
          'a query with a genre, a language and an open range',
          { query: 'fantasy', filter: { genre: 'Fantasy', language: 'en', publishedFrom: 1998 } },
        ],
        [
          'a query with a genre and a closed range',
          { query: 'the', filter: { genre: 'Classics', publishedFrom: 1937, publishedTo: 1953 } },
        ],
        ['a query with a language and a range open below', { query: 'le', filter: { language: 'fr', publishedTo: 1943 } }],
        ['a query with a range no book reaches', { query: 'fantasy', filter: { publishedFrom: 2500 } }],
        ['a query with a genre in another case', { query: 'fantasy', filter: { genre: 'fantasy' } }],
      ];
      it.each(cases)('%s: the matching books, their count and exact facet counts', async (_name, { query, filter }) => {
        // The twins are excluded by a genre or language they do not have, or by the query.
        const wanted = expected({ query, filter });
        const res = await search(
          { query, filter: { ...filter, ...(filter?.genre || filter?.language || query ? {} : { language: 'en' }) }, first: 100 },
          SEARCH_WITH_FACETS,
        );
        expect(res.errors).toBeUndefined();
        if (!filter?.genre && !filter?.language && !query) return;
        expect(titlesOf(res).sort()).toEqual(wanted.titles);
        expect(res.data!.books.totalCount).toBe(wanted.titles.length);
        expect(res.data!.books.facets).toEqual(wanted.facets);
      });

      it('a changed genre, language, year or popularity is searched at once (the trigger keeps the markers)', async () => {
        const id = ids.get('dune')!;
        const filter = { genre: 'Space Opera', language: 'de', publishedFrom: 1970, publishedTo: 1971 };
        expect((await search({ query: 'dune', filter })).data!.books.totalCount).toBe(0);
        await books.database.prisma.book.update({
          where: { id },
          data: { genres: ['Space Opera'], language: 'de', publishedYear: 1971, popularity: 9995 },
        });
        try {
          const res = await search({ query: 'dune', filter });
          expect(res.data!.books.edges.map((e) => e.node.id)).toEqual([id]);
        } finally {
          await books.database.prisma.book.update({
            where: { id },
            data: { genres: ['Science Fiction'], language: 'en', publishedYear: 1965, popularity: 10 },
          });
        }
        expect((await search({ query: 'dune', filter })).data!.books.totalCount).toBe(0);
      });

      it('keeps genre and language apart in the combined markers, and finds books with years markers cannot hold', async () => {
        const odd: BookRow[] = [
          { key: 'a:b', language: 'a:b', genres: ['c'], publishedYear: 1999 },
          { key: 'a', language: 'a', genres: ['b:c'], publishedYear: 1999 },
          { key: 'far', language: 'en', genres: ['Odd'], publishedYear: 12000 },
        ].map((b, i) => ({
          isbn: isbn(9100 + i),
          title: `Oddity ${b.key}`,
          authors: ['Otto Odd'],
          genres: b.genres,
          publishedYear: b.publishedYear,
          language: b.language,
          description: null,
          copies: 0,
        }));
        await insertBooks(run, odd);
        try {
          const titles = async (filter: Filter) => titlesOf(await search({ query: 'oddity', filter, first: 10 })).sort();
          expect(await titles({ genre: 'c', language: 'a:b' })).toEqual(['Oddity a:b']);
          expect(await titles({ genre: 'b:c', language: 'a' })).toEqual(['Oddity a']);
          expect(await titles({ genre: 'c', language: 'a:b', publishedFrom: 1990 })).toEqual(['Oddity a:b']);
          expect(await titles({ genre: 'b:c', language: 'a', publishedTo: 2000 })).toEqual(['Oddity a']);
          // Year 12,000 has no year markers: open ranges are then checked on the rows alone.
          expect(await titles({ publishedFrom: 2000 })).toEqual(['Oddity far']);
          expect(await titles({ genre: 'Odd', language: 'en', publishedFrom: 2000 })).toEqual(['Oddity far']);
          expect(await titles({ publishedFrom: 1000, publishedTo: 9999 })).toEqual(['Oddity a', 'Oddity a:b']);
        } finally {
          await books.database.prisma.book.deleteMany({ where: { isbn: { in: odd.map((b) => b.isbn) } } });
        }
      });

      it('author filter with LIKE wildcards matches them literally', async () => {
        const res = await search({ filter: { author: '%' } });
        expect(res.data!.books.totalCount).toBe(0);
        const underscore = await search({ filter: { author: 'J_ K' } });
        expect(underscore.data!.books.totalCount).toBe(0);
      });

      it('withdrawn books are not found', async () => {
        await books.database.prisma.book.update({ where: { id: ids.get('undated')! }, data: { withdrawnAt: new Date() } });
        try {
          expect((await search({ query: 'anonymous chronicle' })).data!.books.totalCount).toBe(0);
        } finally {
          await books.database.prisma.book.update({ where: { id: ids.get('undated')! }, data: { withdrawnAt: null } });
        }
        expect((await search({ query: 'anonymous chronicle' })).data!.books.totalCount).toBe(1);
      });
    });

    describe('pagination over equal keys', () => {
      /** Walks every page; returns the ids in order. */
      async function walk(variables: Record<string, unknown>, first: number): Promise<string[]> {
        const seen: string[] = [];
        let after: string | null = null;
        for (let page = 0; page < 200; page += 1) {
          const res = await search({ ...variables, first, after });
          expect(res.errors).toBeUndefined();
          const { edges, pageInfo } = res.data!.books;
          seen.push(...edges.map((e) => e.node.id));
          if (!pageInfo.hasNextPage) return seen;
          expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
          after = pageInfo.endCursor;
        }
        throw new Error('too many pages');
      }

      const all = () => CATALOG.length + EQUALS;
      const sorts = ['RELEVANCE', 'TITLE', 'AUTHOR', 'NEWEST', 'OLDEST'];

      it.each(sorts)('%s: the twins, page by page, with no repeats and no gaps (query crossing the ranking window)', async (sort) => {
        // "twin" matches every twin by prefix, not as an exact title: more than RANK_WINDOW matches, so
        // RELEVANCE pages cross from the ranked window into the popularity-ordered rest.
        const ids = await walk({ query: 'twin', sort }, 37);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(EQUALS);
      });

      it.each(sorts)('%s: the whole catalogue without a query, no repeats and no gaps', async (sort) => {
        const ids = await walk({ sort }, 100);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(all());
      });

      it('exact title matches for every twin: all of them, once each', async () => {
        const ids = await walk({ query: 'Twin Volume' }, 50);
        expect(new Set(ids).size).toBe(EQUALS);
      });

      it('NEWEST puts books without a year last; the keys never go backwards', async () => {
        const res = await search({ query: 'twin', sort: 'NEWEST', first: 100 });
        const years = res.data!.books.edges.map((e) => e.node.publishedYear);
        expect(years.every((y, i) => i === 0 || y === null || (years[i - 1] !== null && y <= years[i - 1]!))).toBe(true);
      });

      it('RELEVANCE over popularity tiers: the window is the most popular matches, then the rest by popularity', async () => {
        // Books spread over every popularity tier, so the window is found tier by tier (a tier with enough
        // matches answers); equal titles give equal scores, so the window is in id order.
        const count = RANK_WINDOW + 60;
        const tiered: BookRow[] = generateBooks(8, 0, count).map((b, i) => ({
          ...b,
          isbn: isbn(5000 + i),
          title: 'Tiered Edition',
          authors: ['Tia Tier'],
          genres: ['Tiers'],
          publishedYear: 1990 + (i % 3),
          language: 'en',
          description: null,
          copies: 0,
          popularity: 9999 - ((i * 37) % 9999),
        }));
        await insertBooks(run, tiered);
        try {
          const rows = await books.database.prisma.book.findMany({
            where: { title: 'Tiered Edition' },
            select: { id: true, popularity: true, publishedYear: true },
          });
          const byPopularity = (list: typeof rows) =>
            [...list].sort((a, b) => b.popularity - a.popularity || (a.id < b.id ? -1 : 1)).map((r) => r.id);
          const expectedOrder = (list: typeof rows) => {
            const ranked = byPopularity(list);
            return [...ranked.slice(0, RANK_WINDOW).sort(), ...ranked.slice(RANK_WINDOW)];
          };
          expect(await walk({ query: 'tiered' }, 45)).toEqual(expectedOrder(rows));
          // The same with every filter a marker stands for (genre, language, a closed year range).
          const filtered = rows.filter((r) => r.publishedYear !== 1992);
          const filter = { genre: 'Tiers', language: 'en', publishedFrom: 1990, publishedTo: 1991 };
          expect(await walk({ query: 'tiered', filter }, 60)).toEqual(expectedOrder(filtered));
          const facets = await search({ query: 'tiered', filter, first: 1 }, SEARCH_WITH_FACETS);
          expect(facets.data!.books.totalCount).toBe(filtered.length);
          expect(facets.data!.books.facets!.genres).toEqual([{ value: 'Tiers', count: filtered.length }]);
          // Walking the popularity index, GIN tier by tier and reading every match give the same page, with
          // the filters in the GIN lookup or checked on the rows (a window of 5 here, so that the tiers are
          // tried in a small catalogue; 40 rows reach past it).
          const strategies: Record<string, [walkRows: number, enumerate: number, ginRatio: number]> = {
            walk: [1_000_000, 1, 16],
            tiers: [0, 0, 16],
            tiersAllInGin: [0, 0, 1_000_000],
            tiersRarestInGin: [0, 0, 0],
            every: [0, 1_000_000, 16],
          };
          const pages: Record<string, unknown> = {};
          for (const [name, [walkRows, enumerate, ginRatio]] of Object.entries(strategies)) {
            const settings = [5, COUNT_CAP, FACET_SAMPLE, FACET_VALUES, 8, 32, 3, walkRows, enumerate, ginRatio];
            const [row] = await run(
              `SELECT shelfwise_search($1::text, NULL, 'Tiers', 'en', NULL, false, 1990, NULL, true, 40,
                                       NULL, NULL, NULL, NULL, NULL, NULL, false, $2::int[]) AS result`,
              ['tiered', settings],
            );
            const result = row!.result as { rows: { id: string; phase: number }[]; boundary: unknown; total: number };
            pages[name] = { ids: result.rows.map((r) => [r.phase, r.id]), boundary: result.boundary, total: result.total };
          }
          for (const name of Object.keys(strategies)) expect([name, pages[name]]).toEqual([name, pages.walk]);
          const walked = pages.walk as { ids: [number, string][]; total: number };
          expect(walked.ids.map(([, id]) => id)).toEqual([...byPopularity(rows).slice(0, 5).sort(), ...byPopularity(rows).slice(5, 40)]);
          expect(walked.total).toBe(rows.length);
        } finally {
          await books.database.prisma.book.deleteMany({ where: { title: 'Tiered Edition' } });
        }
      });

      it('totalCount is exact up to the cap and the cap above it', async () => {
        const res = await search({ query: 'twin', first: 1 });
        expect(res.data!.books.totalCount).toBe(Math.min(EQUALS, COUNT_CAP));
        const genre = await search({ filter: { genre: 'Twins' }, first: 1 });
        expect(genre.data!.books.totalCount).toBe(Math.min(EQUALS, COUNT_CAP));
      });
    });

    describe('bad input', () => {
      const codeOf = (res: { errors?: { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;

      it('refuses first over 100 or below 1', async () => {
        for (const first of [101, 0, -1]) expect(codeOf(await search({ query: 'dune', first }))).toBe('BAD_USER_INPUT');
      });

      it('refuses a malformed cursor', async () => {
        for (const after of ['garbage', '', Buffer.from('books:TITLE:x:[1,2,3]').toString('base64url'), '%%%']) {
          const res = await search({ query: 'dune', after });
          expect(codeOf(res)).toBe('BAD_USER_INPUT');
          expect(res.errors?.[0]?.message).toMatch(/cursor/);
        }
      });

      it('refuses a cursor from another sort, query or filter', async () => {
        const page = await search({ query: 'twin', sort: 'TITLE', first: 2 });
        const cursor = page.data!.books.pageInfo.endCursor;
        expect(codeOf(await search({ query: 'twin', sort: 'AUTHOR', first: 2, after: cursor }))).toBe('BAD_USER_INPUT');
        expect(codeOf(await search({ query: 'dune', sort: 'TITLE', first: 2, after: cursor }))).toBe('BAD_USER_INPUT');
        expect(codeOf(await search({ query: 'twin', sort: 'TITLE', first: 2, after: cursor, filter: { language: 'fr' } }))).toBe(
          'BAD_USER_INPUT',
        );
        const ranked = await search({ query: 'twin', first: 2 });
        const rankedCursor = ranked.data!.books.pageInfo.endCursor;
        expect(codeOf(await search({ query: 'twin', sort: 'TITLE', first: 2, after: rankedCursor }))).toBe('BAD_USER_INPUT');
        expect(codeOf(await search({ query: 'twin', first: 2, after: rankedCursor }))).toBeUndefined();
      });

      it('refuses an unknown sort', async () => {
        const res = await search({ query: 'dune', sort: 'POPULARITY' });
        expect(codeOf(res)).toBe('BAD_USER_INPUT');
      });

      it('refuses a query over 200 characters', async () => {
        expect(codeOf(await search({ query: 'a'.repeat(201) }))).toBe('BAD_USER_INPUT');
      });
    });

    describe('hostile search strings are just text', () => {
      const hostile = [
        "'",
        '"',
        '\\',
        "\\'",
        "''''",
        'a & b | !c',
        'harry:* & (potter <-> stone)',
        '!!!',
        '(',
        ')',
        '<->',
        '*',
        ':*',
        '&|!:*()<->',
        `Robert'); DROP TABLE "Book";--`,
        "1' OR '1'='1",
        '%_%',
        '$1 $$ $tag$',
        '\u0000',
        '🙂 ☃ 東京',
        `${"'\\".repeat(99)}`,
      ];
      it.each(hostile)('%j answers without an error and changes nothing', async (query) => {
        const before = await books.database.prisma.book.count();
        for (const sort of ['RELEVANCE', 'TITLE']) {
          const res = await search({ query, sort, first: 5 }, SEARCH_WITH_FACETS);
          expect(res.errors).toBeUndefined();
          expect(res.data!.books.totalCount).toBeGreaterThanOrEqual(0);
        }
        expect(await books.database.prisma.book.count()).toBe(before);
      });

      it('operators in a query are separators: "harry & !potter" finds Harry Potter', async () => {
        const res = await search({ query: 'harry & !potter' });
        expect(
          res
            .data!.books.edges.map((e) => keyOfId(e.node.id))
            .slice(0, 2)
            .sort(),
        ).toEqual(['hp1', 'hp2']);
      });

      it('the words of a hostile title find it', async () => {
        const res = await search({ query: 'drop table operator' });
        expect(titlesOf(res)).toEqual([CATALOG.find((b) => b.key === 'hostile')!.title]);
        const exact = await search({ query: CATALOG.find((b) => b.key === 'hostile')!.title });
        expect(titlesOf(exact)[0]).toBe(CATALOG.find((b) => b.key === 'hostile')!.title);
      });
    });
  });
}
