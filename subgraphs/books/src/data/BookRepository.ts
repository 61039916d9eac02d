import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import DataLoader from 'dataloader';
import { isUuid } from '@shelfwise/kit';
import { BookSearch, type BookPage, type BookSearchInput } from './BookSearch.js';
import type { BookModel, CopyModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** Copy counts for one book: the single source of truth for totalCopies / availableCopies. */
export interface BookCounts {
  total: number;
  available: number;
}

export type { BookFacets, BookPage, BookSearchInput, BookSortKey, FacetCount } from './BookSearch.js';

/** The statuses `totalCopies` counts (all but WITHDRAWN); `availableCopies` counts AVAILABLE. */
export const COUNTED_STATUSES = ['AVAILABLE', 'ON_LOAN', 'ON_HOLD_SHELF', 'LOST'] as const;

/**
 * The only code that touches the books database. Loaders are per request (created in the context), so
 * N references to books in one request cost one query.
 */
export class BookRepository {
  private readonly searcher: BookSearch;

  /** `adapter`: the driver adapter under `prisma`, so that catalogue search skips Prisma's client (BookSearch). */
  constructor(
    private readonly prisma: PrismaClient,
    adapter?: SqlDriverAdapterFactory,
  ) {
    this.searcher = new BookSearch(prisma, adapter);
  }

  /** Batches book lookups by id; removed books resolve (history keeps pointing at them). */
  bookLoader(): DataLoader<string, BookModel | null> {
    return new DataLoader(async (ids) => {
      const rows = await this.prisma.book.findMany({ where: { id: { in: ids.filter(isUuid) } } });
      const byId = new Map(rows.map((b) => [b.id, b]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  copyLoader(): DataLoader<string, CopyModel | null> {
    return new DataLoader(async (ids) => {
      const rows = await this.prisma.copy.findMany({ where: { id: { in: ids.filter(isUuid) } } });
      const byId = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** All copies of each book, in barcode order. */
  copiesByBookLoader(): DataLoader<string, CopyModel[]> {
    return new DataLoader(async (bookIds) => {
      const rows = await this.prisma.copy.findMany({ where: { bookId: { in: [...bookIds] } }, orderBy: { barcode: 'asc' } });
      const byBook = new Map<string, CopyModel[]>();
      for (const row of rows) byBook.set(row.bookId, [...(byBook.get(row.bookId) ?? []), row]);
      return bookIds.map((id) => byBook.get(id) ?? []);
    });
  }

  /** Copy counts for many books in one grouped query. */
  countsLoader(): DataLoader<string, BookCounts> {
    return new DataLoader(async (bookIds) => {
      const groups = await this.prisma.copy.groupBy({
        by: ['bookId', 'status'],
        where: { bookId: { in: [...bookIds] }, status: { in: [...COUNTED_STATUSES] } },
        _count: { _all: true },
      });
      const counts = new Map<string, BookCounts>();
      for (const g of groups) {
        const c = counts.get(g.bookId) ?? { total: 0, available: 0 };
        c.total += g._count._all;
        if (g.status === 'AVAILABLE') c.available += g._count._all;
        counts.set(g.bookId, c);
      }
      return bookIds.map((id) => counts.get(id) ?? { total: 0, available: 0 });
    });
  }

  /** Catalogue search: ranked full-text search with filters, keyset pages and facets (BookSearch.ts). */
  search(input: BookSearchInput): Promise<BookPage> {
    return this.searcher.search(input);
  }

  /** Adds a book with `copies` copies (used by seeding and tests until #4 adds the mutation). */
  async create(data: {
    isbn: string;
    title: string;
    authors: string[];
    genres?: string[];
    publishedYear?: number | null;
    language?: string;
    description?: string | null;
    copies?: number;
  }): Promise<BookModel> {
    const { copies = 0, ...book } = data;
    return this.prisma.$transaction(async (tx) => {
      const created = await tx.book.create({ data: { ...book, ...authorColumns(book.authors), genres: book.genres ?? [] } });
      if (copies > 0) {
        await tx.copy.createMany({
          data: Array.from({ length: copies }, (_, i) => ({
            bookId: created.id,
            barcode: `${created.isbn}-${String(i + 1).padStart(3, '0')}`,
          })),
        });
      }
      return created;
    });
  }

  async count(): Promise<number> {
    return this.prisma.book.count();
  }
}

/** The author columns derived from `authors`: kept by every write that sets authors. */
export function authorColumns(authors: string[]): { authorsText: string; sortAuthor: string } {
  return { authorsText: authors.join(' | '), sortAuthor: (authors[0] ?? '').toLowerCase() };
}
