import DataLoader from 'dataloader';
import { badInput, conflict, decodeCursor, type Edge, encodeCursor, isUuid, type PageInfo, toConnection } from '@shelfwise/kit';
import { Prisma } from '../generated/prisma/client.js';
import type { ReviewModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

export type ReviewSortKey = 'NEWEST' | 'HIGHEST' | 'LOWEST';

/** Whose reviews a list holds: a book's, or an author's. */
export type ReviewOwnerKind = 'book' | 'author';

export interface ReviewPageQuery {
  sort: ReviewSortKey;
  /** Already checked with the kit's pageSize(). */
  first: number;
  after?: string | null;
}

/** One page of a book's or an author's reviews. The total is looked up separately, only when selected. */
export interface ReviewPage {
  owner: { kind: ReviewOwnerKind; id: string };
  edges: Edge<ReviewModel>[];
  pageInfo: PageInfo;
}

/** The running totals kept for a book (zero for a book nobody reviewed). */
export interface RatingSummary {
  reviewCount: number;
  ratingSum: number;
}

export interface NewReview {
  bookId: string;
  authorId: string;
  rating: number;
  body?: string | null;
}

export const MIN_RATING = 1;
export const MAX_RATING = 5;
export const MAX_BODY_LENGTH = 10_000;

/** Cursor key: rating, createdAt (ISO) and id, enough to continue after a review in every sort. */
type ReviewKey = [number, string, string];
const isReviewKey = (v: unknown): v is ReviewKey =>
  Array.isArray(v) &&
  v.length === 3 &&
  Number.isInteger(v[0]) &&
  typeof v[1] === 'string' &&
  !Number.isNaN(Date.parse(v[1])) &&
  typeof v[2] === 'string' &&
  isUuid(v[2]);

const OWNER_COLUMN: Record<ReviewOwnerKind, Prisma.Sql> = { book: Prisma.raw('"bookId"'), author: Prisma.raw('"authorId"') };

const ORDER_BY: Record<ReviewSortKey, Prisma.Sql> = {
  NEWEST: Prisma.raw('"createdAt" DESC, "id" DESC'),
  HIGHEST: Prisma.raw('"rating" DESC, "createdAt" DESC, "id" DESC'),
  LOWEST: Prisma.raw('"rating" ASC, "createdAt" DESC, "id" DESC'),
};

const ZERO: RatingSummary = { reviewCount: 0, ratingSum: 0 };

/**
 * The only code that touches the reviews database. Loaders are per request (created in the context), so
 * N references to reviews, books or authors in one request cost one statement per kind of lookup.
 */
export class ReviewRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Batches review lookups by id; ids that are not UUIDs resolve to null without reaching the database. */
  reviewLoader(): DataLoader<string, ReviewModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length > 0 ? await this.prisma.review.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** The rating totals of many books in one statement (averageRating, reviewCount, Book.reviews.totalCount). */
  ratingLoader(): DataLoader<string, RatingSummary> {
    return new DataLoader(async (bookIds) => {
      const valid = bookIds.filter(isUuid);
      const rows =
        valid.length > 0
          ? await this.prisma.bookRating.findMany({
              where: { bookId: { in: valid } },
              select: { bookId: true, reviewCount: true, ratingSum: true },
            })
          : [];
      const byBook = new Map(rows.map((r) => [r.bookId, { reviewCount: r.reviewCount, ratingSum: r.ratingSum }]));
      return bookIds.map((id) => byBook.get(id) ?? ZERO);
    });
  }

  /** How many reviews each of many authors wrote, in one grouped statement. */
  authorReviewCountLoader(): DataLoader<string, number> {
    return new DataLoader(async (authorIds) => {
      const valid = authorIds.filter(isUuid);
      const groups =
        valid.length > 0
          ? await this.prisma.review.groupBy({ by: ['authorId'], where: { authorId: { in: valid } }, _count: { _all: true } })
          : [];
      const counts = new Map(groups.map((g) => [g.authorId, g._count._all]));
      return authorIds.map((id) => counts.get(id) ?? 0);
    });
  }

  /**
   * Page loaders for one kind of owner. Each distinct (sort, first, after) gets its own DataLoader, so
   * the first pages of many books' reviews come from one statement. The cursor is checked here, before
   * anything is batched, so a bad one fails only the field that passed it.
   */
  pageLoaders(kind: ReviewOwnerKind): (query: ReviewPageQuery) => DataLoader<string, ReviewPage> {
    const loaders = new Map<string, DataLoader<string, ReviewPage>>();
    return (query) => {
      const cursorKind = `reviews:${kind}:${query.sort}`;
      const after = decodeCursor(cursorKind, query.after, isReviewKey);
      const id = `${query.sort}|${query.first}|${query.after ?? ''}`;
      let loader = loaders.get(id);
      if (!loader) {
        loader = new DataLoader(async (ownerIds) => {
          const rows = await this.pageRows(kind, ownerIds.filter(isUuid), query.sort, query.first + 1, after);
          return ownerIds.map((ownerId) => {
            const { edges, pageInfo } = toConnection(rows.get(ownerId) ?? [], query.first, 0, (r) => encodeCursor(cursorKind, keyOf(r)));
            return { owner: { kind, id: ownerId }, edges, pageInfo };
          });
        });
        loaders.set(id, loader);
      }
      return loader;
    };
  }

  /**
   * Up to `take` reviews of each owner after `after` in `sort` order, for all owners in one statement:
   * a window function numbers each owner's reviews, so one owner with many reviews never crowds out the
   * others and no owner's rows are fetched beyond its page.
   */
  private async pageRows(
    kind: ReviewOwnerKind,
    ownerIds: string[],
    sort: ReviewSortKey,
    take: number,
    after: ReviewKey | undefined,
  ): Promise<Map<string, ReviewModel[]>> {
    const byOwner = new Map<string, ReviewModel[]>();
    if (ownerIds.length === 0) return byOwner;
    const owner = OWNER_COLUMN[kind];
    const where = after
      ? Prisma.sql`${owner} = ANY(${ownerIds}::uuid[]) AND ${afterKey(sort, after)}`
      : Prisma.sql`${owner} = ANY(${ownerIds}::uuid[])`;
    const rows = await this.prisma.$queryRaw<ReviewRow[]>`
      SELECT "id", "bookId", "authorId", "rating", "body", "createdAt", "updatedAt"
      FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY ${owner} ORDER BY ${ORDER_BY[sort]}) AS "position"
        FROM "Review"
        WHERE ${where}
      ) AS ranked
      WHERE "position" <= ${take}
      ORDER BY "position"`;
    for (const row of rows) {
      const review = toReview(row);
      const ownerId = kind === 'book' ? review.bookId : review.authorId;
      byOwner.set(ownerId, [...(byOwner.get(ownerId) ?? []), review]);
    }
    return byOwner;
  }

  /**
   * Adds a review and updates the book's running totals in the same transaction (tests and seeding until
   * the writeReview mutation arrives). One review per book and author: a second one is a CONFLICT.
   */
  async create(data: NewReview): Promise<ReviewModel> {
    if (!isUuid(data.bookId)) throw badInput(`"${data.bookId}" is not a book id.`);
    if (!isUuid(data.authorId)) throw badInput(`"${data.authorId}" is not a user id.`);
    if (!Number.isInteger(data.rating) || data.rating < MIN_RATING || data.rating > MAX_RATING) {
      throw badInput(`A rating is a whole number of stars from ${MIN_RATING} to ${MAX_RATING}.`);
    }
    const body = data.body?.trim() || null;
    if (body !== null && body.length > MAX_BODY_LENGTH) throw badInput(`A review is at most ${MAX_BODY_LENGTH} characters.`);
    try {
      return await this.prisma.$transaction(async (tx) => {
        const review = await tx.review.create({ data: { bookId: data.bookId, authorId: data.authorId, rating: data.rating, body } });
        await tx.bookRating.upsert({
          where: { bookId: data.bookId },
          create: { bookId: data.bookId, reviewCount: 1, ratingSum: data.rating },
          update: { reviewCount: { increment: 1 }, ratingSum: { increment: data.rating } },
        });
        return review;
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw conflict('This user has already reviewed this book; change that review instead of writing another.');
      }
      throw err;
    }
  }

  async count(): Promise<number> {
    return this.prisma.review.count();
  }
}

/** Average of a book's ratings, or null when it has none. */
export function averageRating(summary: RatingSummary): number | null {
  return summary.reviewCount > 0 ? summary.ratingSum / summary.reviewCount : null;
}

/** A row as $queryRaw returns it (timestamps may arrive as Date or as text depending on the driver). */
interface ReviewRow {
  id: string;
  bookId: string;
  authorId: string;
  rating: number;
  body: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
}

function toReview(row: ReviewRow): ReviewModel {
  return { ...row, rating: Number(row.rating), createdAt: toUtcDate(row.createdAt), updatedAt: toUtcDate(row.updatedAt) };
}

/** Columns are TIMESTAMP(3) holding UTC (Prisma's convention); text without a zone is read as UTC. */
function toUtcDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

function keyOf(review: ReviewModel): ReviewKey {
  return [review.rating, review.createdAt.toISOString(), review.id];
}

/**
 * Rows strictly after the cursor in `sort` order. The timestamp is passed as text without a zone and
 * cast to `timestamp`, matching how Prisma stores UTC instants in TIMESTAMP(3) columns.
 */
function afterKey(sort: ReviewSortKey, [rating, createdAt, id]: ReviewKey): Prisma.Sql {
  const at = new Date(createdAt).toISOString().replace('Z', '');
  const newer = Prisma.sql`("createdAt", "id") < (${at}::timestamp, ${id}::uuid)`;
  switch (sort) {
    case 'NEWEST':
      return newer;
    case 'HIGHEST':
      return Prisma.sql`("rating" < ${rating} OR ("rating" = ${rating} AND ${newer}))`;
    case 'LOWEST':
      return Prisma.sql`("rating" > ${rating} OR ("rating" = ${rating} AND ${newer}))`;
  }
}
