/**
 * Reviews end to end through the router, on the whole platform (PGlite): real accounts signed in, books
 * added by a librarian, a loan made with borrowBook, and every internal call real (reviews asks books
 * whether a book exists and loans whether its author borrowed it).
 */
import { ServiceClock } from '@shelfwise/kit';
import { startPlatform, type Platform } from '@shelfwise/router/platform';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';

const START_TIMEOUT_MS = 240_000;
const ADMIN = { email: 'root@reviews.example', password: 'a long admin passphrase' };

interface Session {
  accessToken: string;
  user: { id: string };
}

let platform: Platform;
let url: string;
let alice: Session;
let bob: Session;
let librarian: Session;
let bookIds: string[] = [];

const as = (who: Session | null): Record<string, string> => (who ? { authorization: `Bearer ${who.accessToken}` } : {});
const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

const SIGN_IN_FIELDS = 'accessToken user { id }';
async function register(email: string, name: string): Promise<Session> {
  const res = await graphql<{ register: Session }>(
    url,
    `mutation($input: RegisterInput!) { register(input: $input) { ${SIGN_IN_FIELDS} } }`,
    {
      input: { email, name, password: `${name} reads a great many books` },
    },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.register;
}
async function login(email: string, password: string): Promise<Session> {
  const res = await graphql<{ login: Session }>(
    url,
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${SIGN_IN_FIELDS} } }`,
    {
      e: email,
      p: password,
    },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.login;
}

const WRITE = `mutation($input: WriteReviewInput!) { writeReview(input: $input) { id rating body verifiedBorrower author { id name } book { id title } } }`;
const write = (who: Session | null, input: Record<string, unknown>) =>
  graphql<{
    writeReview: {
      id: string;
      rating: number;
      body: string | null;
      verifiedBorrower: boolean | null;
      author: { id: string; name: string };
      book: { id: string };
    };
  }>(url, WRITE, { input }, as(who));

beforeAll(async () => {
  platform = await startPlatform({ clock: new ServiceClock(true), subgraphs: { users: { admin: ADMIN } } });
  url = platform.router.url;
  alice = await register('alice@reviews.example', 'Alice');
  bob = await register('bob@reviews.example', 'Bob');
  const lib = await register('lib@reviews.example', 'Libby');
  const admin = await login(ADMIN.email, ADMIN.password);
  const promoted = await graphql(
    url,
    'mutation($id: ID!) { setUserRole(userId: $id, role: LIBRARIAN) { role } }',
    { id: lib.user.id },
    as(admin),
  );
  expect(promoted.errors).toBeUndefined();
  librarian = await login('lib@reviews.example', 'Libby reads a great many books');

  // Twenty books, added as a librarian would, titles in order.
  bookIds = [];
  for (let i = 0; i < 20; i += 1) {
    const twelve = `978100000${String(i).padStart(3, '0')}`;
    const sum = [...twelve].reduce((acc, d, j) => acc + Number(d) * (j % 2 === 0 ? 1 : 3), 0);
    const res = await graphql<{ addBook: { id: string } }>(
      url,
      'mutation($input: AddBookInput!) { addBook(input: $input) { id } }',
      {
        input: {
          isbn: `${twelve}${(10 - (sum % 10)) % 10}`,
          title: `Reviewed ${String(i).padStart(2, '0')}`,
          authors: ['Writer'],
          copies: 2,
        },
      },
      as(librarian),
    );
    expect(res.errors).toBeUndefined();
    bookIds.push(res.data!.addBook.id);
  }
}, START_TIMEOUT_MS);

afterAll(async () => {
  await platform?.stop();
});

describe('reviews through the router', () => {
  it('refuses anonymous writes and lets anyone read', async () => {
    expect(codes(await write(null, { bookId: bookIds[0], rating: 5 }))).toEqual(['UNAUTHENTICATED']);
    const read = await graphql<{ book: { averageRating: number | null; reviewCount: number; reviews: { totalCount: number } } }>(
      url,
      'query($id: ID!) { book(id: $id) { averageRating reviewCount reviews { totalCount } } }',
      { id: bookIds[0] },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.book).toEqual({ averageRating: null, reviewCount: 0, reviews: { totalCount: 0 } });
  });

  it('writes a review (the book confirmed by the catalogue), refuses a second one and an unknown book', async () => {
    const res = await write(alice, { bookId: bookIds[1], rating: 4, body: 'Good <i>fun</i>.' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.writeReview).toMatchObject({ rating: 4, body: 'Good <i>fun</i>.', author: { id: alice.user.id, name: 'Alice' } });
    const again = await write(alice, { bookId: bookIds[1], rating: 1 });
    expect(codes(again)).toEqual(['CONFLICT']);
    expect(again.errors![0]!.extensions!.reviewId).toBe(res.data!.writeReview.id);
    expect(codes(await write(alice, { bookId: '00000000-0000-4000-8000-000000000000', rating: 3 }))).toEqual(['NOT_FOUND']);
    expect(codes(await write(alice, { bookId: 'not-an-id', rating: 3 }))).toEqual(['BAD_USER_INPUT']);
  });

  it('lets only the author edit, and staff remove with a reason kept in the moderation log', async () => {
    const bobs = (await write(bob, { bookId: bookIds[2], rating: 1, body: 'Rude words.' })).data!.writeReview;
    await write(alice, { bookId: bookIds[2], rating: 5 });
    const edit = `mutation($id: ID!, $input: UpdateReviewInput!) { updateReview(id: $id, input: $input) { rating body } }`;
    expect(codes(await graphql(url, edit, { id: bobs.id, input: { body: 'Nice words.' } }, as(alice)))).toEqual(['FORBIDDEN']);
    expect(codes(await graphql(url, edit, { id: bobs.id, input: { body: 'Nice words.' } }, as(librarian)))).toEqual(['FORBIDDEN']);
    const own = await graphql<{ updateReview: { rating: number; body: string } }>(
      url,
      edit,
      { id: bobs.id, input: { rating: 2 } },
      as(bob),
    );
    expect(own.data?.updateReview).toEqual({ rating: 2, body: 'Rude words.' });

    const del = `mutation($id: ID!, $reason: String) { deleteReview(id: $id, reason: $reason) }`;
    expect(codes(await graphql(url, del, { id: bobs.id }, as(alice)))).toEqual(['FORBIDDEN']);
    expect(codes(await graphql(url, del, { id: bobs.id }, as(librarian)))).toEqual(['BAD_USER_INPUT']);
    const removed = await graphql(url, del, { id: bobs.id, reason: 'Abusive.' }, as(librarian));
    expect(removed).toEqual({ data: { deleteReview: true } });
    const log = await platform.subgraphs.reviews.database.prisma.reviewModeration.findMany({ where: { reviewId: bobs.id } });
    expect(log.map((l) => [l.authorId, l.rating, l.body, l.moderatorId, l.reason])).toEqual([
      [bob.user.id, 2, 'Rude words.', librarian.user.id, 'Abusive.'],
    ]);
    const book = await graphql<{ book: { averageRating: number; reviewCount: number } }>(
      url,
      'query($id: ID!) { book(id: $id) { averageRating reviewCount } }',
      { id: bookIds[2] },
    );
    expect(book.data!.book).toEqual({ averageRating: 5, reviewCount: 1 });
  });

  it("lists a user's reviews publicly, reached through a review's author", async () => {
    const res = await graphql<{ book: { reviews: { edges: { node: { author: { name: string; reviews: { totalCount: number } } } }[] } } }>(
      url,
      'query($id: ID!) { book(id: $id) { reviews { edges { node { author { name reviews { totalCount } } } } } } }',
      { id: bookIds[1] },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.book.reviews.edges[0]!.node.author).toEqual({ name: 'Alice', reviews: { totalCount: 2 } });
  });

  it('answers averageRating and reviewCount for a catalogue page of 20 books with one fetch and one SQL statement', async () => {
    await write(bob, { bookId: bookIds[5], rating: 3 });
    platform.router.resetFetchCounts();
    const before = platform.subgraphs.reviews.database.db.stats.statements;
    const res = await graphql<{ books: { edges: { node: { id: string; averageRating: number | null; reviewCount: number } }[] } }>(
      url,
      'query { books(first: 20, sort: TITLE) { edges { node { id averageRating reviewCount } } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(platform.subgraphs.reviews.database.db.stats.statements - before).toBe(1);
    expect(platform.router.fetchCounts.get('reviews')).toBe(1);
    const nodes = res.data!.books.edges.map((e) => e.node);
    expect(nodes.map((n) => n.id)).toEqual(bookIds);
    expect(nodes.slice(0, 6).map((n) => [n.averageRating, n.reviewCount])).toEqual([
      [null, 0],
      [4, 1],
      [5, 1],
      [null, 0],
      [null, 0],
      [3, 1],
    ]);
  });

  // Needs loans' internal `borrowings(pairs)` and `borrowBook` (the loans issue).
  it('marks the review of a reader who borrowed the book as a verified borrower (reviews asks loans itself)', async () => {
    const bookId = bookIds[10]!;
    const loan = await graphql<{ borrowBook: { id: string } }>(
      url,
      'mutation($id: ID!) { borrowBook(bookId: $id) { id } }',
      { id: bookId },
      as(alice),
    );
    expect(loan.errors).toBeUndefined();
    const mine = await write(alice, { bookId, rating: 5, body: 'Read it twice.' });
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.writeReview.verifiedBorrower).toBe(true);
    expect((await write(bob, { bookId, rating: 2 })).errors).toBeUndefined();

    platform.router.resetFetchCounts();
    const page = await graphql<{
      book: { reviews: { edges: { node: { author: { name: string }; verifiedBorrower: boolean | null } }[] } };
    }>(url, 'query($id: ID!) { book(id: $id) { reviews(sort: HIGHEST) { edges { node { verifiedBorrower author { name } } } } } }', {
      id: bookId,
    });
    expect(page.errors).toBeUndefined();
    expect(page.data!.book.reviews.edges.map((e) => [e.node.author.name, e.node.verifiedBorrower])).toEqual([
      ['Alice', true],
      ['Bob', false],
    ]);
    // The router never calls loans for this: reviews does, once, on its own credential.
    expect(platform.router.fetchCounts.get('loans')).toBeUndefined();
  });
});
