import DataLoader from 'dataloader';
import { appError, ErrorCode, type Logger, type ServiceClient } from '@shelfwise/kit';

/** A user and a book: did this user ever borrow this book? */
export interface BorrowingPair {
  userId: string;
  bookId: string;
}

const BOOK_EXISTS = 'query ReviewsBookExists($id: ID!) { book(id: $id) { id } }';
const BORROWINGS = 'query ReviewsBorrowings($pairs: [BorrowingPairInput!]!) { borrowings(pairs: $pairs) }';

/** Most pairs sent in one call to loans: several full pages of reviews, well under the body limit. */
const MAX_PAIRS_PER_CALL = 1_000;

/**
 * What the reviews subgraph asks of other subgraphs, over internal calls signed with the service key:
 * the catalogue (does a book exist?) and circulation (has a user borrowed a book?). Prisma is not
 * involved; the only database code stays in ReviewRepository.
 */
export class OtherServices {
  constructor(
    private readonly client: ServiceClient,
    private readonly logger?: Logger,
  ) {}

  /**
   * Whether the catalogue lists the book (books' public `book(id)`: null for an unknown or withdrawn
   * title). SERVICE_UNAVAILABLE when books does not answer: a review is never written unchecked.
   */
  async bookExists(bookId: string): Promise<boolean> {
    const data = await this.client.call<{ book: { id: string } | null }>('books', BOOK_EXISTS, { id: bookId });
    return data.book !== null;
  }

  /**
   * A per-request loader: every `verifiedBorrower` in one response becomes one call to loans'
   * internal `borrowings(pairs)`, which answers a Boolean per pair in order. When loans does not answer
   * (or answers out of contract), every pending pair fails with SERVICE_UNAVAILABLE: the field is null
   * with an error, never a guessed `false`.
   */
  borrowedLoader(): DataLoader<BorrowingPair, boolean, string> {
    return new DataLoader<BorrowingPair, boolean, string>(
      async (pairs) => {
        let answer: { borrowings?: unknown };
        try {
          answer = await this.client.call<{ borrowings?: unknown }>('loans', BORROWINGS, {
            pairs: pairs.map(({ userId, bookId }) => ({ userId, bookId })),
          });
        } catch (err) {
          this.logger?.warn({ err }, 'could not check verified borrowers');
          throw borrowingsUnavailable();
        }
        const flags = answer.borrowings;
        if (!Array.isArray(flags) || flags.length !== pairs.length || !flags.every((f) => typeof f === 'boolean')) {
          this.logger?.warn({ pairs: pairs.length, answer }, 'loans answered borrowings out of contract');
          throw borrowingsUnavailable();
        }
        return flags as boolean[];
      },
      { cacheKeyFn: ({ userId, bookId }) => `${userId}/${bookId}`, maxBatchSize: MAX_PAIRS_PER_CALL },
    );
  }
}

function borrowingsUnavailable() {
  return appError(
    ErrorCode.SERVICE_UNAVAILABLE,
    'Whether the author borrowed this book cannot be checked right now (the loans service did not answer). Try again in a moment.',
  );
}
