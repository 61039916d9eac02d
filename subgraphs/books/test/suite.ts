import { graphql } from '@shelfwise/testkit';
import { InMemoryBus, type ServiceOptions } from '@shelfwise/kit';
import { start, type BooksHandle } from '../src/server.js';

interface BookNode {
  id: string;
  title: string;
  totalCopies: number;
  availableCopies: number;
}
interface PageResult {
  books: { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number };
}

/**
 * The books subgraph's behaviour, run on PGlite (books.test.ts) and on real Postgres
 * (books.postgres.test.ts) so its SQL is proven on both.
 */
export function describeBooksSubgraph(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    let books: BooksHandle;
    let bookIds: string[];
    const bus = new InMemoryBus();

    beforeAll(async () => {
      // No relay timer: a pass in the middle of a measured query would add to its statement count.
      books = await start({ ...options(), bus, relayIntervalMs: 0 });
      const created = [];
      for (const [i, name] of ['Dune', 'Emma', 'Beloved'].entries()) {
        created.push(
          await books.books.create({
            isbn: `978000000000${i}`,
            title: name,
            authors: [`Author ${i}`],
            genres: ['Fiction'],
            publishedYear: 1960 + i,
            copies: i + 1,
          }),
        );
      }
      // Withdrawn copies are not counted in totalCopies.
      await books.database.prisma.copy.updateMany({
        where: { bookId: created[2]!.id, barcode: { endsWith: '-003' } },
        data: { status: 'WITHDRAWN' },
      });
      await books.database.prisma.copy.updateMany({
        where: { bookId: created[2]!.id, barcode: { endsWith: '-002' } },
        data: { status: 'ON_LOAN' },
      });
      bookIds = created.map((b) => b.id);
    });
    afterAll(async () => {
      await books?.stop();
      await cleanup?.();
    });

    it('resolves Book entities in one batch, with counts from one grouped query', async () => {
      const before = books.database.db.stats.statements;
      const res = await graphql<{ _entities: (BookNode | null)[] }>(
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
      expect(res.data?._entities.map((b) => b?.title ?? null)).toEqual(['Dune', 'Emma', 'Beloved', null]);
      expect(res.data?._entities.slice(0, 3).map((b) => [b?.totalCopies, b?.availableCopies])).toEqual([
        [1, 1],
        [2, 2],
        [2, 1],
      ]);
      // one query for the books, one grouped count for the copies
      expect(books.database.db.stats.statements - before).toBe(2);
    });

    it('resolves Copy entities in one batch, with their book and status', async () => {
      const copies = await books.database.prisma.copy.findMany({ orderBy: { barcode: 'asc' } });
      expect(copies).toHaveLength(6);
      const before = books.database.db.stats.statements;
      const res = await graphql<{ _entities: ({ id: string; barcode: string; status: string; book: { title: string } } | null)[] }>(
        books.url,
        `
          query ($reps: [_Any!]!) {
            _entities(representations: $reps) {
              ... on Copy {
                id
                barcode
                status
                book {
                  title
                }
              }
            }
          }
        `,
        {
          reps: [
            ...copies.map((c) => ({ __typename: 'Copy', id: c.id })),
            { __typename: 'Copy', id: '00000000-0000-4000-8000-000000000000' },
          ],
        },
      );
      expect(res.errors).toBeUndefined();
      const entities = res.data!._entities;
      expect(entities.at(-1)).toBeNull();
      expect(entities.slice(0, 6).map((c) => c?.barcode)).toEqual(copies.map((c) => c.barcode));
      expect(entities.filter((c) => c?.status === 'WITHDRAWN').map((c) => c?.book.title)).toEqual(['Beloved']);
      // copies in one query, their books in one more, however many copies
      expect(books.database.db.stats.statements - before).toBe(2);
    });

    it('lists every copy of a book, withdrawn ones included', async () => {
      const res = await graphql<{ book: { copies: { status: string }[] } }>(
        books.url,
        `
          query ($id: ID!) {
            book(id: $id) {
              copies {
                status
              }
            }
          }
        `,
        {
          id: bookIds[2],
        },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.book.copies.map((c) => c.status).sort()).toEqual(['AVAILABLE', 'ON_LOAN', 'WITHDRAWN']);
    });

    it('pages through the catalogue without repeats', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const res: Awaited<ReturnType<typeof graphql<PageResult>>> = await graphql<PageResult>(
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
        expect(res.data!.books.totalCount).toBe(3);
        seen.push(...res.data!.books.edges.map((e) => e.node.title));
        after = res.data!.books.pageInfo.hasNextPage ? res.data!.books.pageInfo.endCursor : null;
      } while (after);
      expect(seen).toEqual(['Beloved', 'Dune', 'Emma']);
    });

    it('sorts by first author, paging without repeats, and matches part of an author name in any case', async () => {
      const titles: string[] = [];
      let after: string | null = null;
      do {
        const res: Awaited<ReturnType<typeof graphql<PageResult>>> = await graphql<PageResult>(
          books.url,
          `
            query ($after: String) {
              books(first: 1, after: $after, sort: AUTHOR) {
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
        titles.push(...res.data!.books.edges.map((e) => e.node.title));
        after = res.data!.books.pageInfo.hasNextPage ? res.data!.books.pageInfo.endCursor : null;
      } while (after);
      expect(titles).toEqual(['Dune', 'Emma', 'Beloved']);

      const byFilter = await graphql<PageResult>(
        books.url,
        `
          {
            books(filter: { author: "THOR 1" }) {
              totalCount
              edges {
                node {
                  title
                }
              }
            }
          }
        `,
      );
      expect(byFilter.data?.books.edges.map((e) => e.node.title)).toEqual(['Emma']);
      const byQuery = await graphql<PageResult>(
        books.url,
        `
          {
            books(query: "author 2") {
              totalCount
              edges {
                node {
                  title
                }
              }
            }
          }
        `,
      );
      expect(byQuery.data?.books.edges.map((e) => e.node.title)).toEqual(['Beloved']);
      // A cursor from the TITLE order is refused on the AUTHOR order.
      const titleCursor = await graphql<PageResult>(
        books.url,
        `
          {
            books(first: 1, sort: TITLE) {
              pageInfo {
                hasNextPage
                endCursor
              }
              totalCount
              edges {
                node {
                  title
                }
              }
            }
          }
        `,
      );
      const mixed = await graphql(
        books.url,
        `
          query ($after: String) {
            books(sort: AUTHOR, after: $after) {
              totalCount
            }
          }
        `,
        {
          after: titleCursor.data?.books.pageInfo.endCursor,
        },
      );
      expect(mixed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('filters and counts facets for the whole result set', async () => {
      const res = await graphql<{ books: { totalCount: number; facets: { authors: { value: string; count: number }[] } } }>(
        books.url,
        `
          {
            books(filter: { publishedFrom: 1961, availableOnly: true }) {
              totalCount
              facets {
                authors {
                  value
                  count
                }
              }
            }
          }
        `,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.books.totalCount).toBe(2);
      expect(res.data?.books.facets.authors).toEqual([
        { value: 'Author 1', count: 1 },
        { value: 'Author 2', count: 1 },
      ]);
    });

    it('is ready while its database and its bus answer, and says so when the bus does not', async () => {
      const health = await fetch(new URL('/health', books.url));
      expect(health.status).toBe(200);
      const ready = await fetch(new URL('/ready', books.url));
      expect(ready.status).toBe(200);
      await bus.dispose();
      const notReady = await fetch(new URL('/ready', books.url));
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'unavailable', service: 'books' });
    });

    it('refuses a page over 100, a foreign cursor and an inverted year range', async () => {
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
      );
      expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const years = await graphql(
        books.url,
        `
          {
            books(filter: { publishedFrom: 2000, publishedTo: 1990 }) {
              totalCount
            }
          }
        `,
      );
      expect(years.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
}
