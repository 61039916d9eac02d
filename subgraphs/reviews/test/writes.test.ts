/**
 * Writing, changing and removing reviews through the reviews subgraph, as the router would call it, with
 * the real books subgraph answering "does this book exist?". Loans' internal `borrowings(pairs)` is
 * answered by a small HTTP server speaking that contract (loans' own tests prove its answers), so the
 * batching and the failure path of `verifiedBorrower` can be observed; test/reviews.platform.test.ts
 * runs the real thing end to end.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { start as startBooks, type BooksHandle } from '@shelfwise/books';
import {
  CALLER_HEADER,
  callerCredential,
  MutableSubgraphDirectory,
  verifyCredential,
  type Role,
  type ServiceOptions,
  type Viewer,
} from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, graphql, hasPostgres, TEST_DATABASE_URL, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type ReviewsHandle } from '../src/server.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

interface ReviewOut {
  id: string;
  rating: number;
  body: string | null;
  createdAt: string;
  updatedAt: string;
  book: { id: string };
  author: { id: string };
}

const FIELDS = 'id rating body createdAt updatedAt book { id } author { id }';
const WRITE = `mutation($input: WriteReviewInput!) { writeReview(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateReviewInput!) { updateReview(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!, $reason: String) { deleteReview(id: $id, reason: $reason) }`;
const RATINGS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { id averageRating reviewCount } } }`;

const person = (role: Role = 'PATRON'): Viewer => ({ userId: randomUUID(), role });
const as = (viewer: Viewer | null) => ({ [CALLER_HEADER]: callerCredential(viewer) });
const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

/** A valid ISBN-13 for `n` (978 prefix, computed check digit). */
function isbn13(n: number): string {
  const twelve = `978${String(n).padStart(9, '0')}`;
  const sum = [...twelve].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${twelve}${(10 - (sum % 10)) % 10}`;
}

/**
 * Loans' internal `borrowings(pairs)` contract over HTTP: a Boolean per pair, in order, true when that
 * user ever borrowed that book. It refuses anything but a service credential from `reviews`, and records
 * each call so the tests can count them.
 */
async function startBorrowingsContract() {
  const borrowed = new Set<string>();
  const calls: { userId: string; bookId: string }[][] = [];
  let down = false;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const header = req.headers[CALLER_HEADER];
      const caller = verifyCredential(Array.isArray(header) ? header[0] : header);
      if (down) {
        res.writeHead(503).end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      if (caller?.service !== 'reviews') {
        res
          .writeHead(401)
          .end(JSON.stringify({ errors: [{ message: 'service credential required', extensions: { code: 'UNAUTHENTICATED' } }] }));
        return;
      }
      const { query, variables } = JSON.parse(text) as { query: string; variables: { pairs: { userId: string; bookId: string }[] } };
      if (!/borrowings\(pairs: \$pairs\)/.test(query)) {
        res.end(JSON.stringify({ errors: [{ message: 'unknown operation', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }));
        return;
      }
      calls.push(variables.pairs);
      res.end(JSON.stringify({ data: { borrowings: variables.pairs.map((p) => borrowed.has(`${p.userId}/${p.bookId}`)) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    calls,
    lend: (userId: string, bookId: string) => borrowed.add(`${userId}/${bookId}`),
    setDown: (value: boolean) => {
      down = value;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function writesSuite(reviewsOptions: () => ServiceOptions, booksOptions: () => ServiceOptions) {
  let books: BooksHandle;
  let reviews: ReviewsHandle;
  let loans: Awaited<ReturnType<typeof startBorrowingsContract>>;
  const librarian = person('LIBRARIAN');
  const admin = person('ADMIN');
  let isbnSeq = 0;

  const call = <T>(query: string, variables: Record<string, unknown>, viewer: Viewer | null) =>
    graphql<T>(reviews.url, query, variables, as(viewer));
  const write = (viewer: Viewer | null, input: Record<string, unknown>) => call<{ writeReview: ReviewOut }>(WRITE, { input }, viewer);
  const update = (viewer: Viewer | null, id: string, input: Record<string, unknown>) =>
    call<{ updateReview: ReviewOut }>(UPDATE, { id, input }, viewer);
  const remove = (viewer: Viewer | null, id: string, reason?: string | null) =>
    call<{ deleteReview: boolean }>(DELETE, { id, reason }, viewer);

  /** A real book in the books subgraph. */
  async function addBook(title = 'A Book'): Promise<string> {
    isbnSeq += 1;
    const res = await graphql<{ addBook: { id: string } }>(
      books.url,
      'mutation($input: AddBookInput!) { addBook(input: $input) { id } }',
      { input: { isbn: isbn13(isbnSeq + Math.floor(Math.random() * 1e6) * 100), title, authors: ['Someone'], copies: 1 } },
      as(librarian),
    );
    expect(res.errors).toBeUndefined();
    return res.data!.addBook.id;
  }

  /** The stored totals, and the same computed from the reviews themselves: they must always agree. */
  async function totals(bookId: string) {
    const stored = await reviews.database.prisma.bookRating.findUnique({ where: { bookId } });
    const actual = await reviews.database.prisma.review.aggregate({ where: { bookId }, _count: { _all: true }, _sum: { rating: true } });
    const res = await call<{ _entities: { averageRating: number | null; reviewCount: number }[] }>(
      RATINGS,
      { reps: [{ __typename: 'Book', id: bookId }] },
      null,
    );
    expect({ count: stored?.reviewCount ?? 0, sum: stored?.ratingSum ?? 0 }).toEqual({
      count: actual._count._all,
      sum: actual._sum.rating ?? 0,
    });
    const { averageRating, reviewCount } = res.data!._entities[0]!;
    return { averageRating, reviewCount };
  }

  beforeAll(async () => {
    loans = await startBorrowingsContract();
    books = await startBooks({ ...booksOptions() });
    const directory = new MutableSubgraphDirectory();
    directory.set('books', books.url);
    directory.set('loans', loans.url);
    reviews = await start({ ...reviewsOptions(), services: directory });
  });
  afterAll(async () => {
    await reviews?.stop();
    await books?.stop();
    await loans?.stop();
  });

  describe('writeReview', () => {
    it('writes the signed-in user’s review, text exactly as given, and counts it in the book’s rating', async () => {
      const bookId = await addBook();
      const ada = person();
      const body = '  <b>Not bold</b> & "quoted"\n\tsecond line  ';
      const res = await write(ada, { bookId, rating: 4, body });
      expect(res.errors).toBeUndefined();
      expect(res.data!.writeReview).toMatchObject({ rating: 4, body, book: { id: bookId }, author: { id: ada.userId } });
      expect(res.data!.writeReview.createdAt).toBe(res.data!.writeReview.updatedAt);
      expect(await totals(bookId)).toEqual({ averageRating: 4, reviewCount: 1 });
    });

    it('refuses ratings outside 1 to 5 and ratings that are not whole numbers, writing nothing', async () => {
      const bookId = await addBook();
      const ada = person();
      for (const rating of [0, 6, -1]) expect(codes(await write(ada, { bookId, rating }))).toEqual(['BAD_USER_INPUT']);
      // Int refuses these before any resolver runs: as variables…
      for (const rating of [2.5, '4', null]) expect(codes(await write(ada, { bookId, rating }))).toEqual(['BAD_USER_INPUT']);
      // …and written into the document.
      const literal = await call(`mutation { writeReview(input: { bookId: "${bookId}", rating: 2.5 }) { id } }`, {}, ada);
      expect(codes(literal)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      for (const rating of [1, 5]) {
        const ok = await write(person(), { bookId, rating });
        expect(ok.errors).toBeUndefined();
      }
      expect(await totals(bookId)).toEqual({ averageRating: 3, reviewCount: 2 });
    });

    it('takes 5,000 characters of text and refuses 5,001; counts characters, not UTF-16 units', async () => {
      const bookId = await addBook();
      const longest = await write(person(), { bookId, rating: 3, body: 'a'.repeat(5000) });
      expect(longest.errors).toBeUndefined();
      expect(longest.data!.writeReview.body).toHaveLength(5000);
      const tooLong = await write(person(), { bookId, rating: 3, body: 'a'.repeat(5001) });
      expect(codes(tooLong)).toEqual(['BAD_USER_INPUT']);
      expect(tooLong.errors![0]!.message).toContain('5,000');
      const emoji = await write(person(), { bookId, rating: 3, body: '📚'.repeat(5000) });
      expect(emoji.errors).toBeUndefined();
      expect(codes(await write(person(), { bookId, rating: 3, body: '📚'.repeat(5001) }))).toEqual(['BAD_USER_INPUT']);
      // Postgres cannot store NUL in text: refused up front, not an internal error.
      expect(codes(await write(person(), { bookId, rating: 3, body: 'nul \u0000 here' }))).toEqual(['BAD_USER_INPUT']);
      // No words is a rating without text.
      const blank = await write(person(), { bookId, rating: 3, body: ' \n\t ' });
      expect(blank.data?.writeReview.body).toBeNull();
      expect((await totals(bookId)).reviewCount).toBe(3);
    });

    it('refuses a second review of the same book by the same user with CONFLICT naming the first', async () => {
      const bookId = await addBook();
      const ada = person();
      const first = await write(ada, { bookId, rating: 5 });
      const firstId = first.data!.writeReview.id;
      const second = await write(ada, { bookId, rating: 1, body: 'changed my mind' });
      expect(codes(second)).toEqual(['CONFLICT']);
      expect(second.errors![0]!.extensions!.reviewId).toBe(firstId);
      expect(second.errors![0]!.message).toContain(firstId);
      expect(await totals(bookId)).toEqual({ averageRating: 5, reviewCount: 1 });
      // Another reader, or the same reader on another book, is fine.
      expect((await write(person(), { bookId, rating: 3 })).errors).toBeUndefined();
      expect((await write(ada, { bookId: await addBook(), rating: 3 })).errors).toBeUndefined();
    });

    it('refuses a book the catalogue does not list (NOT_FOUND) and an id that is not one (BAD_USER_INPUT)', async () => {
      const before = await reviews.reviews.count();
      const missing = await write(person(), { bookId: randomUUID(), rating: 4 });
      expect(codes(missing)).toEqual(['NOT_FOUND']);
      const removed = await addBook('Withdrawn');
      const removal = await graphql(books.url, 'mutation($id: ID!) { removeBook(id: $id) }', { id: removed }, as(librarian));
      expect(removal.errors).toBeUndefined();
      expect(codes(await write(person(), { bookId: removed, rating: 4 }))).toEqual(['NOT_FOUND']);
      expect(codes(await write(person(), { bookId: 'dune', rating: 4 }))).toEqual(['BAD_USER_INPUT']);
      expect(await reviews.reviews.count()).toBe(before);
    });

    it('needs a signed-in user for every write; reading stays open to anyone', async () => {
      const bookId = await addBook();
      const review = (await write(person(), { bookId, rating: 2, body: 'Meh.' })).data!.writeReview;
      expect(codes(await write(null, { bookId, rating: 4 }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await update(null, review.id, { rating: 5 }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await remove(null, review.id))).toEqual(['UNAUTHENTICATED']);
      const read = await call<{ _entities: { reviews: { edges: { node: { body: string } }[] }; averageRating: number }[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { averageRating reviews { edges { node { body } } } } } }`,
        { reps: [{ __typename: 'Book', id: bookId }] },
        null,
      );
      expect(read.errors).toBeUndefined();
      expect(read.data!._entities[0]).toEqual({ averageRating: 2, reviews: { edges: [{ node: { body: 'Meh.' } }] } });
      expect(await totals(bookId)).toEqual({ averageRating: 2, reviewCount: 1 });
    });
  });

  describe('updateReview', () => {
    it('lets the author change the stars and the text, moving the average by the difference', async () => {
      const bookId = await addBook();
      const ada = person();
      const mine = (await write(ada, { bookId, rating: 2, body: 'first take' })).data!.writeReview;
      await write(person(), { bookId, rating: 4 });
      expect(await totals(bookId)).toEqual({ averageRating: 3, reviewCount: 2 });

      const rated = await update(ada, mine.id, { rating: 5 });
      expect(rated.errors).toBeUndefined();
      expect(rated.data!.updateReview).toMatchObject({ id: mine.id, rating: 5, body: 'first take', createdAt: mine.createdAt });
      expect(Date.parse(rated.data!.updateReview.updatedAt)).toBeGreaterThanOrEqual(Date.parse(mine.updatedAt));
      expect(await totals(bookId)).toEqual({ averageRating: 4.5, reviewCount: 2 });

      const reworded = await update(ada, mine.id, { body: '  second take ' });
      expect(reworded.data!.updateReview).toMatchObject({ rating: 5, body: '  second take ' });
      const cleared = await update(ada, mine.id, { body: null });
      expect(cleared.data!.updateReview).toMatchObject({ rating: 5, body: null });
      const both = await update(ada, mine.id, { rating: 1, body: 'third take' });
      expect(both.data!.updateReview).toMatchObject({ rating: 1, body: 'third take' });
      expect(await totals(bookId)).toEqual({ averageRating: 2.5, reviewCount: 2 });
    });

    it('refuses an empty change, a null rating, bad stars and over-long text, changing nothing', async () => {
      const bookId = await addBook();
      const ada = person();
      const mine = (await write(ada, { bookId, rating: 3, body: 'keep me' })).data!.writeReview;
      for (const input of [{}, { rating: null }, { rating: 0 }, { rating: 6 }, { body: 'x'.repeat(5001) }]) {
        expect({ input, codes: codes(await update(ada, mine.id, input)) }).toEqual({ input, codes: ['BAD_USER_INPUT'] });
      }
      expect(codes(await update(ada, mine.id, { rating: 2.5 }))).toEqual(['BAD_USER_INPUT']);
      const stored = await reviews.database.prisma.review.findUniqueOrThrow({ where: { id: mine.id } });
      expect([stored.rating, stored.body]).toEqual([3, 'keep me']);
      expect(await totals(bookId)).toEqual({ averageRating: 3, reviewCount: 1 });
    });

    it('lets only the author edit: another patron and library staff are FORBIDDEN', async () => {
      const bookId = await addBook();
      const ada = person();
      const mine = (await write(ada, { bookId, rating: 3, body: 'my words' })).data!.writeReview;
      for (const other of [person(), librarian, admin]) {
        expect(codes(await update(other, mine.id, { body: 'someone else’s words' }))).toEqual(['FORBIDDEN']);
        expect(codes(await update(other, mine.id, { rating: 1 }))).toEqual(['FORBIDDEN']);
      }
      const stored = await reviews.database.prisma.review.findUniqueOrThrow({ where: { id: mine.id } });
      expect([stored.rating, stored.body]).toEqual([3, 'my words']);
      expect(await totals(bookId)).toEqual({ averageRating: 3, reviewCount: 1 });
    });

    it('answers NOT_FOUND for a review that does not exist and BAD_USER_INPUT for an id that is not one', async () => {
      expect(codes(await update(person(), randomUUID(), { rating: 3 }))).toEqual(['NOT_FOUND']);
      expect(codes(await update(person(), 'r-1', { rating: 3 }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('deleteReview', () => {
    it('lets the author remove their review, taking it out of the average, with no moderation entry', async () => {
      const bookId = await addBook();
      const ada = person();
      const mine = (await write(ada, { bookId, rating: 1 })).data!.writeReview;
      await write(person(), { bookId, rating: 5 });
      expect(await totals(bookId)).toEqual({ averageRating: 3, reviewCount: 2 });
      // An author needs no reason; one given is ignored, whatever its length.
      const res = await remove(ada, mine.id, 'x'.repeat(600));
      expect(res).toEqual({ data: { deleteReview: true } });
      expect(await totals(bookId)).toEqual({ averageRating: 5, reviewCount: 1 });
      expect(await reviews.database.prisma.reviewModeration.count({ where: { reviewId: mine.id } })).toBe(0);
      expect(codes(await remove(ada, mine.id))).toEqual(['NOT_FOUND']);
      // Removed, the author may review the book afresh.
      expect((await write(ada, { bookId, rating: 2 })).errors).toBeUndefined();
      expect(await totals(bookId)).toEqual({ averageRating: 3.5, reviewCount: 2 });
    });

    it('refuses another patron (FORBIDDEN) and bad ids', async () => {
      const bookId = await addBook();
      const mine = (await write(person(), { bookId, rating: 4 })).data!.writeReview;
      expect(codes(await remove(person(), mine.id, 'I disagree'))).toEqual(['FORBIDDEN']);
      expect(codes(await remove(person(), randomUUID()))).toEqual(['NOT_FOUND']);
      expect(codes(await remove(person(), 'nope'))).toEqual(['BAD_USER_INPUT']);
      expect(await totals(bookId)).toEqual({ averageRating: 4, reviewCount: 1 });
    });

    it('lets library staff remove anyone’s review with a reason, recorded with a copy of the review', async () => {
      const bookId = await addBook();
      const ada = person();
      const body = 'Spoilers: the butler did it.';
      const review = (await write(ada, { bookId, rating: 2, body })).data!.writeReview;
      await update(ada, review.id, { rating: 1 });
      await write(person(), { bookId, rating: 4 });
      expect(await totals(bookId)).toEqual({ averageRating: 2.5, reviewCount: 2 });

      for (const reason of [undefined, null, '   ']) expect(codes(await remove(librarian, review.id, reason))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await remove(librarian, review.id, 'x'.repeat(501)))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await remove(librarian, review.id, 'nul \u0000'))).toEqual(['BAD_USER_INPUT']);
      expect(await totals(bookId)).toEqual({ averageRating: 2.5, reviewCount: 2 });

      const res = await remove(librarian, review.id, '  Spoils the ending. ');
      expect(res).toEqual({ data: { deleteReview: true } });
      expect(await totals(bookId)).toEqual({ averageRating: 4, reviewCount: 1 });
      const stored = await reviews.database.prisma.review.findUnique({ where: { id: review.id } });
      expect(stored).toBeNull();
      const audit = await reviews.database.prisma.reviewModeration.findMany({ where: { reviewId: review.id } });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        reviewId: review.id,
        bookId,
        authorId: ada.userId,
        rating: 1,
        body,
        reviewCreatedAt: new Date(review.createdAt),
        moderatorId: librarian.userId,
        moderatorRole: 'LIBRARIAN',
        reason: 'Spoils the ending.',
      });
      expect(audit[0]!.reviewUpdatedAt.getTime()).toBeGreaterThanOrEqual(new Date(review.updatedAt).getTime());
      expect(Math.abs(audit[0]!.deletedAt.getTime() - Date.now())).toBeLessThan(60_000);

      // An admin moderates too; staff removing their own review is an author's removal (no entry).
      const other = (await write(person(), { bookId: await addBook(), rating: 3 })).data!.writeReview;
      expect((await remove(admin, other.id, 'Abusive language.')).data?.deleteReview).toBe(true);
      expect(await reviews.database.prisma.reviewModeration.findFirst({ where: { reviewId: other.id } })).toMatchObject({
        moderatorId: admin.userId,
        moderatorRole: 'ADMIN',
      });
      const own = (await write(librarian, { bookId, rating: 5 })).data!.writeReview;
      expect((await remove(librarian, own.id)).data?.deleteReview).toBe(true);
      expect(await reviews.database.prisma.reviewModeration.count({ where: { reviewId: own.id } })).toBe(0);
    });

    it('keeps the totals exact through a long mixed run of writes, edits and removals', async () => {
      const bookId = await addBook();
      const readers = Array.from({ length: 8 }, () => person());
      const ids: string[] = [];
      for (const [i, reader] of readers.entries()) ids.push((await write(reader, { bookId, rating: (i % 5) + 1 })).data!.writeReview.id);
      for (const [i, reader] of readers.entries()) if (i % 2 === 0) await update(reader, ids[i]!, { rating: 5 - (i % 5) });
      for (const [i, reader] of readers.entries()) if (i % 3 === 0) await remove(reader, ids[i]!);
      await remove(librarian, ids[1]!, 'Off topic.');
      const left = await reviews.database.prisma.review.findMany({ where: { bookId } });
      const expectedAverage = left.reduce((a, r) => a + r.rating, 0) / left.length;
      expect(await totals(bookId)).toEqual({ averageRating: expectedAverage, reviewCount: left.length });
      // All removed: the average is null again, the count zero.
      for (const review of left) await remove(librarian, review.id, 'Clean-up.');
      expect(await totals(bookId)).toEqual({ averageRating: null, reviewCount: 0 });
    });
  });

  describe('reading', () => {
    it('answers averageRating and reviewCount for a page of 20 books in one SQL statement', async () => {
      const bookIds = [await addBook(), await addBook(), ...Array.from({ length: 18 }, () => randomUUID())];
      await write(person(), { bookId: bookIds[0], rating: 5 });
      await write(person(), { bookId: bookIds[0], rating: 2 });
      await write(person(), { bookId: bookIds[1], rating: 4 });
      const before = reviews.database.db.stats.statements;
      const res = await call<{ _entities: { id: string; averageRating: number | null; reviewCount: number }[] }>(
        RATINGS,
        { reps: bookIds.map((id) => ({ __typename: 'Book', id })) },
        null,
      );
      expect(res.errors).toBeUndefined();
      expect(reviews.database.db.stats.statements - before).toBe(1);
      expect(res.data!._entities.slice(0, 3)).toEqual([
        { id: bookIds[0], averageRating: 3.5, reviewCount: 2 },
        { id: bookIds[1], averageRating: 4, reviewCount: 1 },
        { id: bookIds[2], averageRating: null, reviewCount: 0 },
      ]);
    });

    it('resolves Review entities with verifiedBorrower, asking loans once for the whole response', async () => {
      const [dune, emma] = [await addBook('Dune'), await addBook('Emma')];
      const [ada, ben] = [person(), person()];
      loans.lend(ada.userId, dune);
      loans.lend(ben.userId, emma);
      const written = [
        (await write(ada, { bookId: dune, rating: 5 })).data!.writeReview.id,
        (await write(ben, { bookId: dune, rating: 3 })).data!.writeReview.id,
        (await write(ada, { bookId: emma, rating: 4 })).data!.writeReview.id,
        (await write(ben, { bookId: emma, rating: 2 })).data!.writeReview.id,
      ];
      loans.calls.length = 0;
      const before = reviews.database.db.stats.statements;
      const res = await call<{ _entities: ({ id: string; rating: number; verifiedBorrower: boolean | null } | null)[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Review { id rating verifiedBorrower } } }`,
        { reps: [...written, written[0], randomUUID(), 'junk'].map((id) => ({ __typename: 'Review', id })) },
        null,
      );
      expect(res.errors).toBeUndefined();
      expect(reviews.database.db.stats.statements - before).toBe(1);
      expect(res.data!._entities.map((r) => r && [r.rating, r.verifiedBorrower])).toEqual([
        [5, true],
        [3, false],
        [4, false],
        [2, true],
        [5, true],
        null,
        null,
      ]);
      expect(loans.calls).toHaveLength(1);
      expect(loans.calls[0]).toHaveLength(4); // distinct pairs only
      expect(new Set(loans.calls[0]!.map((p) => `${p.userId}/${p.bookId}`))).toEqual(
        new Set([`${ada.userId}/${dune}`, `${ben.userId}/${dune}`, `${ada.userId}/${emma}`, `${ben.userId}/${emma}`]),
      );

      // Reviews of many books on one page: still one call.
      loans.calls.length = 0;
      const page = await call<{ _entities: { reviews: { edges: { node: { verifiedBorrower: boolean } }[] } }[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { reviews(sort: HIGHEST) { edges { node { verifiedBorrower } } } } } }`,
        { reps: [dune, emma].map((id) => ({ __typename: 'Book', id })) },
        null,
      );
      expect(page.errors).toBeUndefined();
      expect(page.data!._entities.map((b) => b.reviews.edges.map((e) => e.node.verifiedBorrower))).toEqual([
        [true, false], // Dune: Ada 5★ borrowed it, Ben 3★ did not
        [false, true], // Emma: Ada 4★ did not, Ben 2★ did
      ]);
      expect(loans.calls).toHaveLength(1);
    });

    it('answers null with SERVICE_UNAVAILABLE for verifiedBorrower when loans is down, and the rest of the page', async () => {
      const bookId = await addBook();
      const id = (await write(person(), { bookId, rating: 4, body: 'Still readable.' })).data!.writeReview.id;
      loans.setDown(true);
      try {
        const res = await call<{ _entities: { id: string; body: string; verifiedBorrower: boolean | null }[] }>(
          `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Review { id body verifiedBorrower } } }`,
          { reps: [{ __typename: 'Review', id }] },
          null,
        );
        expect(res.data!._entities).toEqual([{ id, body: 'Still readable.', verifiedBorrower: null }]);
        expect(codes(res)).toEqual(['SERVICE_UNAVAILABLE']);
        expect(JSON.stringify(res.errors)).not.toContain('127.0.0.1');
      } finally {
        loans.setDown(false);
      }
    });
  });

  // Last: stops the books subgraph.
  it('refuses to write a review when the catalogue cannot confirm the book (SERVICE_UNAVAILABLE), writing nothing', async () => {
    const bookId = await addBook();
    await books.stop();
    const before = await reviews.reviews.count();
    const res = await write(person(), { bookId, rating: 4 });
    expect(codes(res)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(await reviews.reviews.count()).toBe(before);
  });
}

describe('review writes (PGlite)', () => {
  writesSuite(
    () => ({}),
    () => ({}),
  );
});

describePg('review writes (PostgreSQL)', () => {
  const reviewsDb = freshDatabaseName('reviews_writes');
  const booksDb = freshDatabaseName('reviews_writes_books');
  afterAll(async () => {
    await dropTestDatabase(reviewsDb);
    await dropTestDatabase(booksDb);
  });
  describe('fresh databases', () => {
    writesSuite(
      () => ({ databaseUrl: TEST_DATABASE_URL, databaseName: reviewsDb }),
      () => ({ databaseUrl: TEST_DATABASE_URL, databaseName: booksDb }),
    );
  });

  describe('concurrent writes on PostgreSQL', () => {
    const raceDb = freshDatabaseName('reviews_race');
    let reviews: ReviewsHandle;
    beforeAll(async () => {
      // No other service: these go through the repository, where the race window can be held open.
      reviews = await start({ databaseUrl: TEST_DATABASE_URL, databaseName: raceDb, services: new MutableSubgraphDirectory() });
    });
    afterAll(async () => {
      await reviews?.stop();
      await dropTestDatabase(raceDb);
    });

    it('lets exactly one of two simultaneous reviews by one reader through; the other gets CONFLICT naming it', async () => {
      const bookId = randomUUID();
      const authorId = randomUUID();
      // Both writes pass the "already reviewed?" check before either inserts: only the unique index decides.
      let arrived = 0;
      let release!: () => void;
      const bothChecked = new Promise<void>((resolve) => (release = resolve));
      const barrier = async () => {
        arrived += 1;
        if (arrived === 2) release();
        await bothChecked;
      };
      const results = await Promise.allSettled([
        reviews.reviews.create({ bookId, authorId, rating: 5 }, barrier),
        reviews.reviews.create({ bookId, authorId, rating: 1 }, barrier),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect([won.length, lost.length]).toEqual([1, 1]);
      const winner = (won[0] as PromiseFulfilledResult<{ id: string; rating: number }>).value;
      expect(lost[0]!.reason).toMatchObject({ extensions: { code: 'CONFLICT', reviewId: winner.id } });
      const total = await reviews.database.prisma.bookRating.findUniqueOrThrow({ where: { bookId } });
      expect([total.reviewCount, total.ratingSum]).toEqual([1, winner.rating]);
    });

    it('moves the totals right under concurrent edits and removals of the same review', async () => {
      const bookId = randomUUID();
      const author: Viewer = { userId: randomUUID(), role: 'PATRON' };
      const review = await reviews.reviews.create({ bookId, authorId: author.userId, rating: 3 });
      await reviews.reviews.create({ bookId, authorId: randomUUID(), rating: 5 });
      const edits = [1, 5, 2, 4, 1, 5, 2, 4].map((rating) => reviews.reviews.update(review.id, author, { rating }, new Date()));
      await Promise.all(edits);
      const edited = await reviews.database.prisma.review.findUniqueOrThrow({ where: { id: review.id } });
      let total = await reviews.database.prisma.bookRating.findUniqueOrThrow({ where: { bookId } });
      expect([total.reviewCount, total.ratingSum]).toEqual([2, edited.rating + 5]);

      const staff: Viewer = { userId: randomUUID(), role: 'LIBRARIAN' };
      const removals = await Promise.allSettled([
        reviews.reviews.delete(review.id, author, null, new Date()),
        reviews.reviews.delete(review.id, staff, 'Duplicate.', new Date()),
        reviews.reviews.update(review.id, author, { rating: 1 }, new Date()),
      ]);
      const removed = removals.slice(0, 2).filter((r) => r.status === 'fulfilled');
      expect(removed).toHaveLength(1);
      for (const r of removals) if (r.status === 'rejected') expect(r.reason).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      total = await reviews.database.prisma.bookRating.findUniqueOrThrow({ where: { bookId } });
      expect([total.reviewCount, total.ratingSum]).toEqual([1, 5]);
    });

    it('counts simultaneous reviews of one book by many readers exactly', async () => {
      const bookId = randomUUID();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => reviews.reviews.create({ bookId, authorId: randomUUID(), rating: (i % 5) + 1 })),
      );
      const total = await reviews.database.prisma.bookRating.findUniqueOrThrow({ where: { bookId } });
      expect([total.reviewCount, total.ratingSum]).toEqual([30, 90]);
    });
  });

  describe('two simultaneous writeReview calls through GraphQL', () => {
    const reviewsDb2 = freshDatabaseName('reviews_race_gql');
    const booksDb2 = freshDatabaseName('reviews_race_gql_books');
    let books: BooksHandle;
    let reviews: ReviewsHandle;
    beforeAll(async () => {
      books = await startBooks({ databaseUrl: TEST_DATABASE_URL, databaseName: booksDb2 });
      const directory = new MutableSubgraphDirectory();
      directory.set('books', books.url);
      reviews = await start({ databaseUrl: TEST_DATABASE_URL, databaseName: reviewsDb2, services: directory });
    });
    afterAll(async () => {
      await reviews?.stop();
      await books?.stop();
      await dropTestDatabase(reviewsDb2);
      await dropTestDatabase(booksDb2);
    });

    it('writes one review and answers the other with CONFLICT, however the two interleave', async () => {
      const added = await graphql<{ addBook: { id: string } }>(
        books.url,
        'mutation($input: AddBookInput!) { addBook(input: $input) { id } }',
        { input: { isbn: isbn13(424242), title: 'Raced', authors: ['Someone'], copies: 1 } },
        as(person('LIBRARIAN')),
      );
      const bookId = added.data!.addBook.id;
      for (let round = 0; round < 5; round += 1) {
        const reader = person();
        const results = await Promise.all(
          [5, 1].map((rating) => graphql<{ writeReview: { id: string } }>(reviews.url, WRITE, { input: { bookId, rating } }, as(reader))),
        );
        const ok = results.filter((r) => !r.errors);
        const refused = results.filter((r) => r.errors);
        expect([ok.length, refused.length]).toEqual([1, 1]);
        expect(refused[0]!.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', reviewId: ok[0]!.data!.writeReview.id });
      }
      const total = await reviews.database.prisma.bookRating.findUniqueOrThrow({ where: { bookId } });
      expect(total.reviewCount).toBe(5);
    });
  });
});
