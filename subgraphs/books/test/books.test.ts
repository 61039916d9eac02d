import { encodeViewer, VIEWER_HEADER } from '@shelfwise/kit';
import { graphql } from '@shelfwise/testkit';
import { start, type BooksHandle } from '../src/server.js';

describe('books subgraph (PGlite)', () => {
  let books: BooksHandle;
  let bookIds: string[];

  beforeAll(async () => {
    books = await start();
    const created = [];
    for (const [i, title] of ['Dune', 'Emma', 'Beloved'].entries()) {
      created.push(
        await books.books.create({
          isbn: `978000000000${i}`,
          title,
          authors: [`Author ${i}`],
          genres: ['Fiction'],
          publishedYear: 1960 + i,
          copies: i + 1,
        }),
      );
    }
    bookIds = created.map((b) => b.id);
  });
  afterAll(() => books.stop());

  it('resolves Book and Copy entities in one batch', async () => {
    const before = books.database.db.stats.statements;
    const res = await graphql<{ _entities: { id: string; title: string; totalCopies: number; availableCopies: number }[] }>(
      books.url,
      `
        query ($reps: [_Any!]!) {
          _entities(representations: $reps) {
            ... on Book {
              id
              title
              totalCopies
              availableCopies
            }
          }
        }
      `,
      { reps: [...bookIds.map((id) => ({ __typename: 'Book', id })), { __typename: 'Book', id: 'not-a-uuid' }] },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities.map((b) => b?.title)).toEqual(['Dune', 'Emma', 'Beloved', undefined]);
    expect(res.data?._entities.slice(0, 3).map((b) => b.totalCopies)).toEqual([1, 2, 3]);
    // one query for the books, one grouped count for the copies
    expect(books.database.db.stats.statements - before).toBe(2);
  });

  it('pages through the catalogue without repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res: Awaited<
        ReturnType<
          typeof graphql<{ books: { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>
        >
      > = await graphql(
        books.url,
        `
          query ($after: String) {
            books(first: 2, after: $after, sort: TITLE) {
              edges {
                node {
                  title
                }
              }
              pageInfo {
                hasNextPage
                endCursor
              }
              totalCount
            }
          }
        `,
        { after },
      );
      expect(res.errors).toBeUndefined();
      seen.push(...res.data!.books.edges.map((e) => e.node.title));
      after = res.data!.books.pageInfo.hasNextPage ? res.data!.books.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(['Beloved', 'Dune', 'Emma']);
  });

  it('refuses a page over 100 and a foreign cursor', async () => {
    const big = await graphql(
      books.url,
      `
        {
          books(first: 101) {
            totalCount
          }
        }
      `,
    );
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const bad = await graphql(
      books.url,
      `
        {
          books(after: "bm9wZQ") {
            totalCount
          }
        }
      `,
      {},
      { [VIEWER_HEADER]: encodeViewer({ userId: 'x', role: 'PATRON' }) },
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
