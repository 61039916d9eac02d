import { readFileSync } from 'node:fs';
import { SUBGRAPH_NAMES, type SubgraphName } from '@shelfwise/kit';
import { graphql } from '@shelfwise/testkit';
import { startPlatform, type Platform, type PlatformOptions } from '../src/platform.js';
import { SERVICE_UNAVAILABLE_MESSAGE, SUPERGRAPH_PATH } from '../src/server.js';

/**
 * The whole platform behind the router, run by test/federation.test.ts (PGlite) and
 * test/federation.postgres.test.ts (a fresh database per subgraph on real Postgres).
 */

/**
 * Seven databases are created and migrated before the first test (each PGlite boots its own Postgres in
 * WebAssembly, several seconds apiece on a busy machine), then 100 books are seeded.
 */
const START_TIMEOUT_MS = 240_000;

/** Enough books for a full page of 100 in the cost test. */
const BOOK_COUNT = 100;

interface Fixture {
  /** Book ids in title order (titles are "Book 000" … "Book 099"). */
  bookIds: string[];
  users: { ada: string; grace: string; linus: string };
}

/**
 * Seeds through each subgraph's repositories, as the demo seed will: three readers, 100 books, reviews
 * on the first two books and holds on the first three.
 */
async function seed(platform: Platform, fixture: Fixture): Promise<void> {
  const { users, books, reviews, reservations } = platform.subgraphs;
  const ada = await users.users.create({ email: 'ada@example.org', name: 'Ada Lovelace' });
  const grace = await users.users.create({ email: 'grace@example.org', name: 'Grace Hopper', role: 'LIBRARIAN' });
  const linus = await users.users.create({ email: 'linus@example.org', name: 'Linus Pauling' });
  fixture.users = { ada: ada.id, grace: grace.id, linus: linus.id };

  for (let i = 0; i < BOOK_COUNT; i += 1) {
    const n = String(i).padStart(3, '0');
    const book = await books.books.create({
      isbn: `9780000001${n}`,
      title: `Book ${n}`,
      authors: [`Author ${n}`],
      genres: ['Fiction'],
      copies: 1 + (i % 3),
    });
    fixture.bookIds.push(book.id);
  }
  const [first, second, third] = fixture.bookIds as [string, string, string];

  await reviews.reviews.create({ bookId: first, authorId: ada.id, rating: 5, body: 'A classic.' });
  await reviews.reviews.create({ bookId: first, authorId: grace.id, rating: 4, body: 'Worth the time.' });
  await reviews.reviews.create({ bookId: first, authorId: linus.id, rating: 2, body: null });
  await reviews.reviews.create({ bookId: second, authorId: grace.id, rating: 3, body: 'Fine.' });

  const t0 = new Date('2026-01-01T10:00:00Z').getTime();
  await reservations.reservations.create({ userId: ada.id, bookId: first, createdAt: new Date(t0) });
  await reservations.reservations.create({ userId: linus.id, bookId: first, createdAt: new Date(t0 + 60_000) });
  await reservations.reservations.create({ userId: grace.id, bookId: third, createdAt: new Date(t0 + 120_000) });
}

const BOOK_ACROSS_SUBGRAPHS = `
  query BookPage($id: ID!) {
    book(id: $id) {
      title
      availableCopies
      averageRating
      reviewCount
      holdQueueLength
      reviews(first: 10, sort: HIGHEST) {
        totalCount
        edges { node { rating body author { name } } }
      }
    }
  }
`;

interface BookPage {
  book: {
    title: string;
    availableCopies: number;
    averageRating: number | null;
    reviewCount: number;
    holdQueueLength: number;
    reviews: { totalCount: number; edges: { node: { rating: number; body: string | null; author: { name: string } } }[] };
  };
}

const CATALOGUE_PAGE = `
  query CataloguePage($first: Int!) {
    books(first: $first, sort: TITLE) {
      edges { node { id title averageRating reviewCount holdQueueLength } }
    }
  }
`;

interface CataloguePage {
  books: { edges: { node: { id: string; title: string; averageRating: number | null; reviewCount: number; holdQueueLength: number } }[] };
}

function statements(platform: Platform): Record<SubgraphName, number> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, platform.subgraphs[name].database.db.stats.statements])) as Record<
    SubgraphName,
    number
  >;
}

function diff(after: Record<SubgraphName, number>, before: Record<SubgraphName, number>): Record<SubgraphName, number> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, after[name] - before[name]])) as Record<SubgraphName, number>;
}

export function describeFederation(
  title: string,
  describeFn: jest.Describe,
  platformOptions: () => PlatformOptions,
  cleanup: () => Promise<void> = async () => undefined,
): void {
  describeFn(title, () => {
    let platform: Platform;
    const fixture: Fixture = { bookIds: [], users: { ada: '', grace: '', linus: '' } };

    beforeAll(async () => {
      platform = await startPlatform({ ...platformOptions(), seed: (p) => seed(p, fixture) });
    }, START_TIMEOUT_MS);

    afterAll(async () => {
      await platform?.stop();
      await cleanup();
    });

    it('routes to all seven subgraphs of the committed supergraph, and is ready', async () => {
      expect(platform.router.subgraphs.map((s) => s.name).sort()).toEqual([...SUBGRAPH_NAMES].sort());
      expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toContain('# Generated by scripts/compose.ts');
      const ready = await fetch(new URL('/ready', platform.router.url));
      expect(ready.status).toBe(200);
    });

    it('answers one query spanning books, reviews, users and reservations', async () => {
      platform.router.resetFetchCounts();
      const res = await graphql<BookPage>(platform.router.url, BOOK_ACROSS_SUBGRAPHS, { id: fixture.bookIds[0] });
      expect(res.errors).toBeUndefined();
      expect(res.data?.book).toEqual({
        title: 'Book 000',
        availableCopies: 1,
        averageRating: 11 / 3,
        reviewCount: 3,
        holdQueueLength: 2,
        reviews: {
          totalCount: 3,
          edges: [
            { node: { rating: 5, body: 'A classic.', author: { name: 'Ada Lovelace' } } },
            { node: { rating: 4, body: 'Worth the time.', author: { name: 'Grace Hopper' } } },
            { node: { rating: 2, body: null, author: { name: 'Linus Pauling' } } },
          ],
        },
      });
      expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({ books: 1, reviews: 1, users: 1, reservations: 1 });
    });

    it('resolves a book nobody reviewed or reserved to zeros, not errors', async () => {
      const res = await graphql<BookPage>(platform.router.url, BOOK_ACROSS_SUBGRAPHS, { id: fixture.bookIds[99] });
      expect(res.errors).toBeUndefined();
      expect(res.data?.book).toMatchObject({
        title: 'Book 099',
        averageRating: null,
        reviewCount: 0,
        holdQueueLength: 0,
        reviews: { totalCount: 0, edges: [] },
      });
    });

    it('costs one fetch per subgraph and the same SQL for 100 books as for 10', async () => {
      const run = async (first: number) => {
        platform.router.resetFetchCounts();
        const before = statements(platform);
        const res = await graphql<CataloguePage>(platform.router.url, CATALOGUE_PAGE, { first });
        expect(res.errors).toBeUndefined();
        return {
          books: res.data!.books.edges.map((e) => e.node),
          fetches: Object.fromEntries(platform.router.fetchCounts),
          sql: diff(statements(platform), before),
        };
      };

      const ten = await run(10);
      const hundred = await run(100);

      expect(ten.books).toHaveLength(10);
      expect(hundred.books).toHaveLength(100);
      expect(hundred.books.slice(0, 3)).toEqual([
        { id: fixture.bookIds[0], title: 'Book 000', averageRating: 11 / 3, reviewCount: 3, holdQueueLength: 2 },
        { id: fixture.bookIds[1], title: 'Book 001', averageRating: 3, reviewCount: 1, holdQueueLength: 0 },
        { id: fixture.bookIds[2], title: 'Book 002', averageRating: null, reviewCount: 0, holdQueueLength: 1 },
      ]);
      expect(hundred.books.map((b) => b.id)).toEqual(fixture.bookIds);

      for (const result of [ten, hundred]) expect(result.fetches).toEqual({ books: 1, reviews: 1, reservations: 1 });
      for (const name of ['books', 'reviews', 'reservations'] as const) {
        expect(ten.sql[name]).toBeGreaterThan(0);
        expect({ name, statements: hundred.sql[name] }).toEqual({ name, statements: ten.sql[name] });
      }
      for (const name of ['users', 'loans', 'payments', 'notifications'] as const) {
        expect({ name, statements: hundred.sql[name] }).toEqual({ name, statements: 0 });
      }
    });

    // Last: stops the reviews subgraph.
    it('still answers the rest when reviews is down, with SERVICE_UNAVAILABLE for the missing part', async () => {
      const reviewsPort = platform.subgraphs.reviews.port;
      await platform.subgraphs.reviews.stop();
      const res = await graphql<BookPage>(
        platform.router.url,
        `
          query ($id: ID!) {
            book(id: $id) {
              title
              holdQueueLength
              averageRating
            }
          }
        `,
        { id: fixture.bookIds[0] },
      );
      expect(res.data?.book).toEqual({ title: 'Book 000', holdQueueLength: 2, averageRating: null });
      expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['SERVICE_UNAVAILABLE', SERVICE_UNAVAILABLE_MESSAGE]]);
      const json = JSON.stringify(res);
      for (const banned of ['127.0.0.1', 'localhost', 'ECONNREFUSED', String(reviewsPort)]) expect(json).not.toContain(banned);

      const ready = await fetch(new URL('/ready', platform.router.url));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', notReady: ['reviews'] });
    });
  });
}
