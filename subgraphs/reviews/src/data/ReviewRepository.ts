import DataLoader from 'dataloader';
import {
  badInput,
  conflict,
  decodeCursor,
  type Edge,
  encodeCursor,
  forbidden,
  hasRole,
  isUuid,
  notFound,
  type PageInfo,
  toConnection,
  type Viewer,
} from '@shelfwise/kit';
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
  /** When it was written (the service clock); the database's time when omitted (seeding). */
  at?: Date;
}

/** A change to a review: a key that is absent leaves that field alone. */
export interface ReviewChanges {
  rating?: number | null;
  body?: string | null;
}

export const MIN_RATING = 1;
export const MAX_RATING = 5;
/** Longest review text, in characters (Unicode code points, so an emoji counts once). */
export const MAX_BODY_LENGTH = 5_000;
/** Longest moderation reason, in characters. */
export const MAX_REASON_LENGTH = 500;

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

  /** The review `authorId` wrote of `bookId`, if any (a pre-check before asking the catalogue). */
  async findByBookAndAuthor(bookId: string, authorId: string): Promise<ReviewModel | null> {
    if (!isUuid(bookId) || !isUuid(authorId)) return null;
    return this.prisma.review.findUnique({ where: { bookId_authorId: { bookId, authorId } } });
  }

  /**
   * Adds a review and moves the book's running totals in the same transaction. One review per book and
   * author: a second one is a CONFLICT naming the first, also when two arrive at once (the unique index
   * lets one insert through and fails the other, which then finds the winner). `confirmBook` runs after
   * the input checks and before anything is written (the writeReview mutation asks the catalogue there).
   */
  async create(data: NewReview, confirmBook?: (bookId: string) => Promise<void>): Promise<ReviewModel> {
    checkId(data.bookId, 'book');
    checkId(data.authorId, 'user');
    checkRating(data.rating);
    const body = checkBody(data.body);
    const existing = await this.findByBookAndAuthor(data.bookId, data.authorId);
    if (existing) throw alreadyReviewed(existing.id);
    await confirmBook?.(data.bookId);
    try {
      return await this.prisma.$transaction(async (tx) => {
        const at = data.at ? { createdAt: data.at, updatedAt: data.at } : {};
        const review = await tx.review.create({ data: { bookId: data.bookId, authorId: data.authorId, rating: data.rating, body, ...at } });
        await tx.bookRating.upsert({
          where: { bookId: data.bookId },
          create: { bookId: data.bookId, reviewCount: 1, ratingSum: data.rating },
          update: { reviewCount: { increment: 1 }, ratingSum: { increment: data.rating } },
        });
        return review;
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        // Lost the race to a concurrent write of the same review: point at the one that won.
        const winner = await this.findByBookAndAuthor(data.bookId, data.authorId);
        if (winner) throw alreadyReviewed(winner.id);
      }
      throw err;
    }
  }

  /**
   * Changes `viewer`'s own review (FORBIDDEN for anyone else, staff included: they moderate by removing,
   * never by rewriting someone's words). The row is locked first, so concurrent edits move the book's
   * rating sum by the difference each one really made.
   */
  async update(id: string, viewer: Viewer, changes: ReviewChanges, at: Date): Promise<ReviewModel> {
    checkId(id, 'review');
    const hasRating = changes.rating !== undefined;
    const hasBody = changes.body !== undefined;
    if (!hasRating && !hasBody) throw badInput('Nothing to change: give a new "rating", a new "body", or both.');
    if (hasRating && changes.rating === null) throw badInput('A review always has a rating: give 1 to 5 stars, or leave "rating" out.');
    if (hasRating) checkRating(changes.rating as number);
    const body = hasBody ? checkBody(changes.body) : undefined;
    return this.prisma.$transaction(async (tx) => {
      const current = await lockReview(tx, id);
      if (current.authorId !== viewer.userId) throw forbidden('Only the author of a review can change it.');
      const rating = hasRating ? (changes.rating as number) : current.rating;
      const updated = await tx.review.update({
        where: { id },
        data: { rating, ...(hasBody ? { body } : {}), updatedAt: at },
      });
      if (rating !== current.rating) {
        await tx.bookRating.update({
          where: { bookId: current.bookId },
          data: { ratingSum: { increment: rating - current.rating }, updatedAt: at },
        });
      }
      return updated;
    });
  }

  /**
   * Removes a review and takes it out of the book's totals, in one transaction. Its author may; library
   * staff may remove anyone's, with a reason, and that removal is written to the moderation audit trail
   * (who, when, why, and a copy of the review) in the same transaction.
   */
  async delete(id: string, viewer: Viewer, reason: string | null | undefined, at: Date): Promise<void> {
    checkId(id, 'review');
    // Only a moderation removal needs (and records) a reason; an author's own removal ignores it.
    const why = reason?.trim() || null;
    await this.prisma.$transaction(async (tx) => {
      const review = await lockReview(tx, id);
      if (review.authorId !== viewer.userId) {
        if (!hasRole(viewer, 'LIBRARIAN')) throw forbidden('Only the author of a review, or library staff moderating, can remove it.');
        if (why === null)
          throw badInput('Say why you are removing someone else\'s review: pass a "reason" (it goes in the moderation log).');
        if (codePoints(why) > MAX_REASON_LENGTH) throw badInput(`A moderation reason is at most ${MAX_REASON_LENGTH} characters.`);
        if (hasForbiddenCharacters(why)) throw badInput('The reason contains characters that cannot be stored (NUL or broken UTF-16).');
        await tx.reviewModeration.create({
          data: {
            reviewId: review.id,
            bookId: review.bookId,
            authorId: review.authorId,
            rating: review.rating,
            body: review.body,
            reviewCreatedAt: review.createdAt,
            reviewUpdatedAt: review.updatedAt,
            moderatorId: viewer.userId,
            moderatorRole: viewer.role,
            reason: why,
            deletedAt: at,
          },
        });
      }
      await tx.review.delete({ where: { id } });
      await tx.bookRating.update({
        where: { bookId: review.bookId },
        data: { reviewCount: { decrement: 1 }, ratingSum: { decrement: review.rating }, updatedAt: at },
      });
    });
  }

  async count(): Promise<number> {
    return this.prisma.review.count();
  }
}

type Tx = Prisma.TransactionClient;

/** The review row, locked for the rest of the transaction (NOT_FOUND when there is none). */
async function lockReview(tx: Tx, id: string): Promise<ReviewModel> {
  const rows = await tx.$queryRaw<ReviewRow[]>`
    SELECT "id", "bookId", "authorId", "rating", "body", "createdAt", "updatedAt"
    FROM "Review" WHERE "id" = ${id}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) throw notFound('There is no review with this id; it may have been removed.');
  return toReview(row);
}

function checkId(id: string, what: 'book' | 'user' | 'review'): void {
  if (!isUuid(id)) throw badInput(`"${id.slice(0, 60)}" is not a ${what} id. Use the id the API returned.`);
}

function checkRating(rating: number): void {
  if (!Number.isInteger(rating) || rating < MIN_RATING || rating > MAX_RATING) {
    throw badInput(`A rating is a whole number of stars from ${MIN_RATING} to ${MAX_RATING}.`);
  }
}

/** Characters in the Unicode sense (code points), as a reader would count them. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** NUL cannot be stored in a Postgres text column; a lone surrogate is not text at all. */
function hasForbiddenCharacters(text: string): boolean {
  return text.includes('\u0000') || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/**
 * The text to store: exactly as given (plain text, never rewritten or sanitised — clients display it as
 * text), or null when there are no words (absent, empty or only whitespace).
 */
function checkBody(body: string | null | undefined): string | null {
  if (body === null || body === undefined || body.trim() === '') return null;
  const length = codePoints(body);
  if (length > MAX_BODY_LENGTH) {
    throw badInput(
      `A review is at most ${MAX_BODY_LENGTH.toLocaleString('en')} characters; this one has ${length.toLocaleString('en')}. Shorten it.`,
    );
  }
  if (hasForbiddenCharacters(body))
    throw badInput('The review contains characters that cannot be stored (NUL or broken UTF-16). Remove them.');
  return body;
}

function alreadyReviewed(reviewId: string) {
  return conflict(
    `You have already reviewed this book (review ${reviewId}); change that review with updateReview instead of writing another.`,
    {
      reviewId,
    },
  );
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
