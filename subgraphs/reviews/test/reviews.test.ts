import { randomUUID } from 'node:crypto';
import { encodeCursor, type ServiceOptions } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, graphql, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import type { ReviewSortKey } from '../src/data/ReviewRepository.js';
import { start, type ReviewsHandle } from '../src/server.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

interface ReviewFields {
  id: string;
  rating: number;
  body: string | null;
  createdAt: string;
  updatedAt: string;
  book: { id: string };
  author: { id: string };
}
interface ReviewList {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}
interface Row {
  id: string;
  bookId: string;
  authorId: string;
  rating: number;
  createdAt: Date;
}

const REVIEW_FIELDS = 'id rating body createdAt updatedAt book { id } author { id }';
const BOOK_REVIEWS = `query($reps: [_Any!]!, $first: Int, $after: String, $sort: ReviewSort) {
  _entities(representations: $reps) { ... on Book { reviews(first: $first, after: $after, sort: $sort) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } } }
}`;
const USER_REVIEWS = `query($reps: [_Any!]!, $first: Int, $after: String) {
  _entities(representations: $reps) { ... on User { reviews(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } } }
}`;

const newer = (a: Row, b: Row) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const ORDER: Record<ReviewSortKey, (a: Row, b: Row) => number> = {
  NEWEST: newer,
  HIGHEST: (a, b) => b.rating - a.rating || newer(a, b),
  LOWEST: (a, b) => a.rating - b.rating || newer(a, b),
};

/** The same behaviour on the embedded PGlite and on a real PostgreSQL server. */
function reviewSuite(options: () => ServiceOptions) {
  let reviews: ReviewsHandle;
  /** Twelve reviews, several sharing a rating and a timestamp. */
  const popular = randomUUID();
  /** One review. */
  const quiet = randomUUID();
  /** No reviews at all. */
  const unread = randomUUID();
  const authors = Array.from({ length: 12 }, () => randomUUID());
  const RATINGS = [5, 3, 4, 5, 1, 3, 3, 2, 5, 4, 3, 1];
  let rows: Row[];

  const statements = () => reviews.database.db.stats.statements;
  const entities = <T>(query: string, variables: Record<string, unknown>) => graphql<{ _entities: T[] }>(reviews.url, query, variables);

  beforeAll(async () => {
    reviews = await start(options());
    for (const [i, rating] of RATINGS.entries()) {
      await reviews.reviews.create({ bookId: popular, authorId: authors[i]!, rating, body: i % 3 === 0 ? null : `  Review ${i}  ` });
    }
    await reviews.reviews.create({ bookId: quiet, authorId: authors[0]!, rating: 4, body: '' });
    // Eight reviews of `popular` written "at the same moment": every order must still be total and stable.
    const all = await reviews.database.prisma.review.findMany({ where: { bookId: popular } });
    const tie = new Date('2026-03-01T12:00:00.000Z');
    await reviews.database.prisma.review.updateMany({ where: { id: { in: all.slice(2, 10).map((r) => r.id) } }, data: { createdAt: tie } });
    rows = await reviews.database.prisma.review.findMany({
      select: { id: true, bookId: true, authorId: true, rating: true, createdAt: true },
    });
  });
  afterAll(() => reviews.stop());

  const expected = (bookId: string, sort: ReviewSortKey) =>
    rows
      .filter((r) => r.bookId === bookId)
      .sort(ORDER[sort])
      .map((r) => r.id);

  describe('writing (repository)', () => {
    it('keeps the running totals in step with the reviews', async () => {
      const totals = await reviews.database.prisma.bookRating.findMany({ orderBy: { reviewCount: 'desc' } });
      expect(totals.map((t) => [t.bookId, t.reviewCount, t.ratingSum])).toEqual([
        [popular, 12, RATINGS.reduce((a, b) => a + b, 0)],
        [quiet, 1, 4],
      ]);
      expect(await reviews.reviews.count()).toBe(13);
    });

    it('refuses a second review of the same book by the same author, leaving the totals alone', async () => {
      await expect(reviews.reviews.create({ bookId: quiet, authorId: authors[0]!, rating: 1 })).rejects.toMatchObject({
        extensions: { code: 'CONFLICT' },
      });
      const total = await reviews.database.prisma.bookRating.findUnique({ where: { bookId: quiet } });
      expect([total?.reviewCount, total?.ratingSum]).toEqual([1, 4]);
      expect(await reviews.reviews.count()).toBe(13);
    });

    it('refuses ratings outside 1 to 5 and ids that are not UUIDs', async () => {
      for (const rating of [0, 6, 2.5]) {
        await expect(reviews.reviews.create({ bookId: unread, authorId: authors[1]!, rating })).rejects.toMatchObject({
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      await expect(reviews.reviews.create({ bookId: 'dune', authorId: authors[1]!, rating: 3 })).rejects.toMatchObject({
        extensions: { code: 'BAD_USER_INPUT' },
      });
      await expect(reviews.reviews.create({ bookId: unread, authorId: 'ada', rating: 3 })).rejects.toMatchObject({
        extensions: { code: 'BAD_USER_INPUT' },
      });
      expect(await reviews.database.prisma.bookRating.findUnique({ where: { bookId: unread } })).toBeNull();
    });

    it('counts every one of many reviews written at once (meaningful on PostgreSQL, where they really run in parallel)', async () => {
      const bookId = randomUUID();
      const ratings = Array.from({ length: 20 }, (_, i) => (i % 5) + 1);
      await Promise.all(ratings.map((rating) => reviews.reviews.create({ bookId, authorId: randomUUID(), rating })));
      const total = await reviews.database.prisma.bookRating.findUnique({ where: { bookId } });
      expect([total?.reviewCount, total?.ratingSum]).toEqual([20, 60]);
    });
  });

  describe('Review entities', () => {
    it('resolves reviews with their book and author references, in one statement', async () => {
      const ids = rows.map((r) => r.id);
      const before = statements();
      const res = await entities<ReviewFields | null>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Review { ${REVIEW_FIELDS} } } }`,
        {
          reps: [
            ...ids.map((id) => ({ __typename: 'Review', id })),
            { __typename: 'Review', id: 'nope' },
            { __typename: 'Review', id: randomUUID() },
          ],
        },
      );
      expect(res.errors).toBeUndefined();
      expect(statements() - before).toBe(1);
      const found = res.data!._entities;
      expect(found.slice(0, ids.length).map((r) => r?.id)).toEqual(ids);
      expect(found.slice(ids.length)).toEqual([null, null]);
      const quietReview = found.find((r) => r?.book.id === quiet)!;
      expect(quietReview).toMatchObject({ rating: 4, body: null, author: { id: authors[0] } });
      const withBody = found.find((r) => r?.body !== null)!;
      expect(withBody.body).toMatch(/^ {2}Review \d+ {2}$/); // stored exactly as given
      expect(Date.parse(withBody.updatedAt)).not.toBeNaN();
    });
  });

  describe('Book entities', () => {
    const RATING_QUERY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { id averageRating reviewCount } } }`;

    it('answers averageRating and reviewCount; a book without reviews has null and 0', async () => {
      const res = await entities<{ id: string; averageRating: number | null; reviewCount: number }>(RATING_QUERY, {
        reps: [popular, quiet, unread, 'not-a-uuid'].map((id) => ({ __typename: 'Book', id })),
      });
      expect(res.errors).toBeUndefined();
      expect(res.data?._entities).toEqual([
        { id: popular, averageRating: RATINGS.reduce((a, b) => a + b, 0) / RATINGS.length, reviewCount: 12 },
        { id: quiet, averageRating: 4, reviewCount: 1 },
        { id: unread, averageRating: null, reviewCount: 0 },
        { id: 'not-a-uuid', averageRating: null, reviewCount: 0 },
      ]);
    });

    it('costs exactly one statement for 100 books with both fields', async () => {
      const ids = [popular, quiet, ...Array.from({ length: 98 }, () => randomUUID())];
      const before = statements();
      const res = await entities<{ averageRating: number | null; reviewCount: number }>(RATING_QUERY, {
        reps: ids.map((id) => ({ __typename: 'Book', id })),
      });
      expect(res.errors).toBeUndefined();
      expect(statements() - before).toBe(1);
      expect(res.data!._entities.map((b) => b.reviewCount).reduce((a, b) => a + b, 0)).toBe(13);
    });

    it("batches many books' review pages into one statement (plus one for the totals)", async () => {
      const before = statements();
      const res = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, {
        reps: [popular, quiet, unread].map((id) => ({ __typename: 'Book', id })),
        first: 3,
      });
      expect(res.errors).toBeUndefined();
      expect(statements() - before).toBe(2);
      const [p, q, u] = res.data!._entities.map((b) => b.reviews);
      expect(p!.edges.map((e) => e.node.id)).toEqual(expected(popular, 'NEWEST').slice(0, 3));
      expect([p!.pageInfo.hasNextPage, p!.totalCount]).toEqual([true, 12]);
      expect(q!.edges.map((e) => e.node.id)).toEqual(expected(quiet, 'NEWEST'));
      expect([q!.pageInfo.hasNextPage, q!.totalCount]).toEqual([false, 1]);
      expect(u).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
    });

    it.each(['NEWEST', 'HIGHEST', 'LOWEST'] as const)('pages through %s without repeats or gaps, ties included', async (sort) => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: Awaited<ReturnType<typeof entities<{ reviews: ReviewList }>>> = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, {
          reps: [{ __typename: 'Book', id: popular }],
          first: 5,
          after,
          sort,
        });
        expect(res.errors).toBeUndefined();
        const list = res.data!._entities[0]!.reviews;
        expect(list.totalCount).toBe(12);
        seen.push(...list.edges.map((e) => e.node.id));
        after = list.pageInfo.hasNextPage ? list.pageInfo.endCursor : null;
        pages += 1;
      } while (after);
      expect(pages).toBe(3);
      expect(seen).toEqual(expected(popular, sort));
    });

    it('orders by rating first for HIGHEST and LOWEST', async () => {
      const ratingOf = new Map(rows.map((r) => [r.id, r.rating]));
      const highest = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, {
        reps: [{ __typename: 'Book', id: popular }],
        first: 12,
        sort: 'HIGHEST',
      });
      expect(highest.data!._entities[0]!.reviews.edges.map((e) => ratingOf.get(e.node.id))).toEqual([...RATINGS].sort((a, b) => b - a));
      const lowest = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, {
        reps: [{ __typename: 'Book', id: popular }],
        first: 12,
        sort: 'LOWEST',
      });
      expect(lowest.data!._entities[0]!.reviews.edges.map((e) => ratingOf.get(e.node.id))).toEqual([...RATINGS].sort((a, b) => a - b));
    });

    it('refuses a bad page size and cursors that are not from this list', async () => {
      const reps = [{ __typename: 'Book', id: popular }];
      for (const first of [0, -3, 101]) {
        const res = await entities(BOOK_REVIEWS, { reps, first });
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const newest = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, { reps, first: 2 });
      const newestCursor = newest.data!._entities[0]!.reviews.pageInfo.endCursor!;
      const authorCursor = encodeCursor('reviews:author:NEWEST', [5, '2026-03-01T12:00:00.000Z', randomUUID()]);
      const cases: [string, ReviewSortKey][] = [
        ['bm9wZQ', 'NEWEST'],
        [newestCursor, 'HIGHEST'], // a cursor of another order
        [authorCursor, 'NEWEST'], // a cursor of an author's list
        [encodeCursor('reviews:book:NEWEST', [5, '2026-03-01T12:00:00.000Z', 'not-a-uuid']), 'NEWEST'],
        [encodeCursor('reviews:book:NEWEST', [5, 'yesterday', randomUUID()]), 'NEWEST'],
        [encodeCursor('reviews:book:NEWEST', ['5', '2026-03-01T12:00:00.000Z', randomUUID()]), 'NEWEST'],
      ];
      for (const [after, sort] of cases) {
        const res = await entities(BOOK_REVIEWS, { reps, after, sort });
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
    });
  });

  describe('User entities', () => {
    it("lists a user's reviews newest first, batched across users", async () => {
      const reps = [authors[0]!, authors[5]!, randomUUID(), 'not-a-uuid'].map((id) => ({ __typename: 'User', id }));
      const before = statements();
      const res = await entities<{ reviews: ReviewList }>(USER_REVIEWS, { reps });
      expect(res.errors).toBeUndefined();
      // one windowed page query for all users, one grouped count
      expect(statements() - before).toBe(2);
      const byAuthor = (authorId: string) =>
        rows
          .filter((r) => r.authorId === authorId)
          .sort(newer)
          .map((r) => r.id);
      const [first, sixth, nobody, junk] = res.data!._entities.map((u) => u.reviews);
      expect(first!.edges.map((e) => e.node.id)).toEqual(byAuthor(authors[0]!));
      expect(first!.totalCount).toBe(2);
      expect(sixth!.edges.map((e) => e.node.id)).toEqual(byAuthor(authors[5]!));
      expect(sixth!.totalCount).toBe(1);
      for (const empty of [nobody, junk])
        expect(empty).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
    });

    it("pages through a user's reviews", async () => {
      const reps = [{ __typename: 'User', id: authors[0] }];
      const page1 = await entities<{ reviews: ReviewList }>(USER_REVIEWS, { reps, first: 1 });
      const list1 = page1.data!._entities[0]!.reviews;
      expect(list1.pageInfo.hasNextPage).toBe(true);
      const page2 = await entities<{ reviews: ReviewList }>(USER_REVIEWS, { reps, first: 1, after: list1.pageInfo.endCursor });
      const list2 = page2.data!._entities[0]!.reviews;
      expect(list2.pageInfo.hasNextPage).toBe(false);
      expect(new Set([...list1.edges, ...list2.edges].map((e) => e.node.id)).size).toBe(2);
      const bookCursor = await entities<{ reviews: ReviewList }>(BOOK_REVIEWS, { reps: [{ __typename: 'Book', id: popular }], first: 1 });
      const wrong = await entities(USER_REVIEWS, { reps, after: bookCursor.data!._entities[0]!.reviews.pageInfo.endCursor });
      expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const big = await entities(USER_REVIEWS, { reps, first: 101 });
      expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
}

describe('reviews subgraph (PGlite)', () => {
  reviewSuite(() => ({}));
});

describePg('reviews subgraph (PostgreSQL)', () => {
  const databaseName = freshDatabaseName('reviews');
  // Outer hook: runs after the suite's own afterAll has stopped the service.
  afterAll(() => dropTestDatabase(databaseName));
  describe('fresh database', () => {
    reviewSuite(() => ({ databaseUrl: TEST_DATABASE_URL, databaseName }));
  });
});
