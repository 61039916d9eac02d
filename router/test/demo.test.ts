import { graphql } from '@shelfwise/testkit';
import { DEMO_GENERATED_BOOKS, DEMO_PASSWORD, seedDemoLibrary } from '../src/demo.js';
import { startPlatform, type Platform } from '../src/platform.js';

/** The demo library of a first `npm start`: a few hundred books, demo accounts, searchable at once. */
describe('the demo library', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } } });
  }, 120_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('loads into an empty catalogue once, says what it loaded, and is searchable', async () => {
    const demo = await seedDemoLibrary(platform);
    expect(demo).toEqual({
      books: 12 + DEMO_GENERATED_BOOKS,
      copies: expect.any(Number),
      librarian: 'librarian@shelfwise.example',
      patrons: ['ada@shelfwise.example', 'ben@shelfwise.example'],
    });
    expect(demo!.copies).toBeGreaterThan(DEMO_GENERATED_BOOKS);
    // A second start finds books and leaves everything as it is.
    expect(await seedDemoLibrary(platform)).toBeNull();
    expect(await platform.subgraphs.books.books.count()).toBe(12 + DEMO_GENERATED_BOOKS);

    const res = await graphql<{ books: { totalCount: number; edges: { node: { title: string } }[] } }>(
      platform.router.url,
      '{ books(query: "hobit", first: 3) { totalCount edges { node { title } } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.books.edges[0]!.node.title).toBe('The Hobbit');
    const all = await graphql<{ books: { totalCount: number } }>(platform.router.url, '{ books(first: 1) { totalCount } }');
    expect(all.data!.books.totalCount).toBe(12 + DEMO_GENERATED_BOOKS);

    const login = await graphql<{ login: { user: { email: string } } }>(
      platform.router.url,
      'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { user { email } } }',
      { email: 'ada@shelfwise.example', password: DEMO_PASSWORD },
    );
    expect(login.errors).toBeUndefined();
    expect(login.data!.login.user.email).toBe('ada@shelfwise.example');
  }, 120_000);
});
