import DataLoader from 'dataloader';
import { type Connection, decodeCursor, encodeCursor, isUuid, toConnection } from '@shelfwise/kit';
import type { Prisma } from '../generated/prisma/client.js';
import type { BookModel, CopyModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** Copy counts for one book: the single source of truth for totalCopies / availableCopies. */
export interface BookCounts {
  total: number;
  available: number;
}

export type BookSortKey = 'RELEVANCE' | 'TITLE' | 'AUTHOR' | 'NEWEST' | 'OLDEST';

export interface BookSearch {
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

export interface BookPage extends Connection<BookModel> {
  /** Facets are computed only when asked for. */
  facets(): Promise<{ genres: FacetCount[]; authors: FacetCount[]; languages: FacetCount[] }>;
}

/** Cursor key: the sort value (string or number or null) and the id that breaks ties. */
type CursorKey = [string | number | null, string];
const isCursorKey = (v: unknown): v is CursorKey =>
  Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number' || v[0] === null) && typeof v[1] === 'string';

const COUNTED_STATUSES = ['AVAILABLE', 'ON_LOAN', 'ON_HOLD_SHELF', 'LOST'] as const;

/**
 * The only code that touches the books database. Loaders are per request (created in the context), so
 * N references to books in one request cost one query.
 */
export class BookRepository {
  constructor(private readonly prisma: PrismaClient) {}

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

  /**
   * Catalogue search: case-insensitive matching of every word of `query` against title, authors,
   * description and ISBN, with filters, stable keyset pagination and facets.
   * TODO(#4): ranked full-text search (tsvector + pg_trgm) replaces the word matching.
   */
  async search(input: BookSearch): Promise<BookPage> {
    const where = this.searchWhere(input);
    const sort = input.sort === 'RELEVANCE' ? 'TITLE' : input.sort;
    const key = decodeCursor(`books:${sort}`, input.after, isCursorKey);
    const order = sortOrder(sort);
    const pageWhere: Prisma.BookWhereInput = key ? { AND: [where, afterKey(sort, key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.book.findMany({ where: pageWhere, orderBy: order, take: input.first + 1 }),
      this.prisma.book.count({ where }),
    ]);
    const page = toConnection(rows, input.first, totalCount, (b) => encodeCursor(`books:${sort}`, cursorValue(sort, b)));
    return {
      ...page,
      facets: async () => {
        const matching = await this.prisma.book.findMany({ where, select: { genres: true, authors: true, language: true } });
        return {
          genres: tally(matching.flatMap((b) => b.genres)),
          authors: tally(matching.flatMap((b) => b.authors)),
          languages: tally(matching.map((b) => b.language)),
        };
      },
    };
  }

  private searchWhere(input: BookSearch): Prisma.BookWhereInput {
    const and: Prisma.BookWhereInput[] = [{ withdrawnAt: null }];
    const words = (input.query ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 10);
    for (const word of words) {
      and.push({
        OR: [
          { title: { contains: word, mode: 'insensitive' } },
          { description: { contains: word, mode: 'insensitive' } },
          { isbn: { contains: word.replace(/-/g, '') } },
          { authorsText: { contains: word, mode: 'insensitive' } },
        ],
      });
    }
    if (input.author) and.push({ authorsText: { contains: input.author.trim(), mode: 'insensitive' } });
    if (input.genre) and.push({ genres: { has: input.genre } });
    if (input.language) and.push({ language: input.language });
    if (input.availableOnly) and.push({ copies: { some: { status: 'AVAILABLE' } } });
    if (input.publishedFrom !== null && input.publishedFrom !== undefined) and.push({ publishedYear: { gte: input.publishedFrom } });
    if (input.publishedTo !== null && input.publishedTo !== undefined) and.push({ publishedYear: { lte: input.publishedTo } });
    return { AND: and };
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

function sortOrder(sort: Exclude<BookSortKey, 'RELEVANCE'>): Prisma.BookOrderByWithRelationInput[] {
  switch (sort) {
    case 'TITLE':
      return [{ title: 'asc' }, { id: 'asc' }];
    case 'AUTHOR':
      return [{ sortAuthor: 'asc' }, { id: 'asc' }];
    case 'NEWEST':
      return [{ publishedYear: { sort: 'desc', nulls: 'last' } }, { id: 'asc' }];
    case 'OLDEST':
      return [{ publishedYear: { sort: 'asc', nulls: 'last' } }, { id: 'asc' }];
  }
}

function cursorValue(sort: Exclude<BookSortKey, 'RELEVANCE'>, book: BookModel): CursorKey {
  if (sort === 'NEWEST' || sort === 'OLDEST') return [book.publishedYear, book.id];
  return [sort === 'AUTHOR' ? book.sortAuthor : book.title, book.id];
}

/** Rows strictly after the cursor in the sort order (ties broken by id). */
function afterKey(sort: Exclude<BookSortKey, 'RELEVANCE'>, [value, id]: CursorKey): Prisma.BookWhereInput {
  if (sort === 'TITLE') {
    const title = String(value ?? '');
    return { OR: [{ title: { gt: title } }, { title, id: { gt: id } }] };
  }
  if (sort === 'AUTHOR') {
    const author = String(value ?? '');
    return { OR: [{ sortAuthor: { gt: author } }, { sortAuthor: author, id: { gt: id } }] };
  }
  const desc = sort === 'NEWEST';
  if (value === null) return { publishedYear: null, id: { gt: id } };
  const year = Number(value);
  return {
    OR: [{ publishedYear: desc ? { lt: year } : { gt: year } }, { publishedYear: year, id: { gt: id } }, { publishedYear: null }],
  };
}

function tally(values: string[]): FacetCount[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    .slice(0, 20);
}
