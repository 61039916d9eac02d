/**
 * Cache updates and optimistic results for the catalogue and book pages (search, borrow, holds, reviews).
 *
 * Borrowing, placing a hold and returning select the Book's `availableCopies totalCopies holdQueueLength`
 * (and a borrow the copy's status), so the normalized Book is updated by the mutation's own answer; the
 * updates below only deal with what an answer cannot carry: the viewer's lists of loans and holds, and a
 * book's reviews, rating and count after a review is written, changed or deleted. Those are invalidated,
 * not guessed: the screens showing them fetch them again.
 */
import type { Cache, Data, OptimisticMutationConfig, UpdatesConfig, Variables } from '@urql/exchange-graphcache';

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function keyOf(cache: Cache, value: unknown): string | null {
  const record = asRecord(value);
  return record ? cache.keyOfEntity(record as Data) : null;
}

/** Invalidates every cached version (each set of arguments) of `fieldName` on an entity that `which` picks. */
function invalidateField(cache: Cache, entityKey: string, fieldName: string, which: (args: Variables) => boolean = () => true): void {
  for (const field of cache.inspectFields(entityKey)) {
    if (field.fieldName === fieldName && which(field.arguments ?? {})) cache.invalidate(entityKey, field.fieldKey);
  }
}

/** The signed-in user's cache key, when a `me` query has run. */
function viewerKey(cache: Cache): string | null {
  const me = cache.resolve('Query', 'me');
  return typeof me === 'string' ? me : null;
}

const AVAILABILITY_FIELDS = ['availableCopies', 'totalCopies', 'holdQueueLength'] as const;

/**
 * A circulation mutation's Book: its availability normally comes from the mutation's selection; when an
 * operation did not select it, the cached numbers are stale and are read again.
 */
function refreshBookAvailability(cache: Cache, book: unknown): void {
  const record = asRecord(book);
  const bookKey = keyOf(cache, record);
  if (!record || !bookKey) return;
  for (const field of AVAILABILITY_FIELDS) {
    if (typeof record[field] !== 'number') cache.invalidate(bookKey, field);
  }
}

/** A book's reviews changed: every page of its reviews and, unless the answer carried them, its rating and count. */
function refreshBookReviews(cache: Cache, bookKey: string, book: Record<string, unknown> | null): void {
  invalidateField(cache, bookKey, 'reviews');
  if (!book || !('averageRating' in book)) cache.invalidate(bookKey, 'averageRating');
  if (!book || typeof book.reviewCount !== 'number') cache.invalidate(bookKey, 'reviewCount');
}

export const catalogUpdates: UpdatesConfig = {
  Mutation: {
    borrowBook(result, _args, cache, info) {
      const loan = asRecord(result.borrowBook);
      // Updaters also run on the optimistic result, which carries only the guessed numbers: invalidating
      // the fields it lacks there would empty the screens it is meant to update. The real answer does it.
      // Refused: nothing changed, and the optimistic layer has already been dropped.
      if (!loan || info.optimistic) return;
      refreshBookAvailability(cache, loan.book);
      const userKey = keyOf(cache, loan.user) ?? viewerKey(cache);
      // The new loan heads the viewer's active (and unfiltered) loans; a hold it fulfilled leaves their holds.
      if (userKey) {
        invalidateField(cache, userKey, 'loans', (args) => args.status == null || args.status === 'ACTIVE');
        invalidateField(cache, userKey, 'reservations');
      }
    },
    reserveBook(result, _args, cache, info) {
      if (info.optimistic) return;
      const hold = asRecord(result.reserveBook);
      if (!hold) return;
      refreshBookAvailability(cache, hold.book);
      const userKey = keyOf(cache, hold.user) ?? viewerKey(cache);
      if (userKey) invalidateField(cache, userKey, 'reservations', (args) => args.status == null || args.status === 'WAITING');
    },
    returnLoan(result, _args, cache, info) {
      if (info.optimistic) return;
      const loan = asRecord(result.returnLoan);
      if (loan) refreshBookAvailability(cache, loan.book);
    },
    writeReview(result, _args, cache, info) {
      if (info.optimistic) return;
      const review = asRecord(result.writeReview);
      const book = asRecord(review?.book);
      const bookKey = keyOf(cache, book);
      if (!review || !bookKey) return;
      refreshBookReviews(cache, bookKey, book);
      const authorKey = keyOf(cache, review.author) ?? viewerKey(cache);
      if (authorKey) invalidateField(cache, authorKey, 'reviews');
    },
    updateReview(result, _args, cache, info) {
      if (info.optimistic) return;
      const review = asRecord(result.updateReview);
      const book = asRecord(review?.book);
      const bookKey = keyOf(cache, book);
      if (!review || !book || !bookKey) return;
      // The review itself is normalized and already updated; newest-first lists keep their order, lists
      // sorted by rating may not.
      invalidateField(cache, bookKey, 'reviews', (args) => args.sort === 'HIGHEST' || args.sort === 'LOWEST');
      if (!('averageRating' in book)) cache.invalidate(bookKey, 'averageRating');
    },
    deleteReview(result, args, cache, info) {
      if (info.optimistic) return;
      if (result.deleteReview !== true || typeof args.id !== 'string') return;
      const reviewKey = cache.keyOfEntity({ __typename: 'Review', id: args.id });
      if (!reviewKey) return;
      const bookKey = cache.resolve(reviewKey, 'book');
      const authorKey = cache.resolve(reviewKey, 'author');
      if (typeof bookKey === 'string') refreshBookReviews(cache, bookKey, null);
      if (typeof authorKey === 'string') invalidateField(cache, authorKey, 'reviews');
      // Gone for good: any list still linking it is read again.
      cache.invalidate(reviewKey);
    },
  },
};

export const catalogOptimistic: OptimisticMutationConfig = {
  /**
   * Borrowing shows at once: one copy fewer on the shelf, and one of the book's shelf copies on loan.
   * Graphcache drops this layer when the answer comes, so a refusal puts the numbers back by itself and
   * a success replaces them with the server's.
   */
  borrowBook(args, cache) {
    const bookId = typeof args.bookId === 'string' ? args.bookId : '';
    const bookKey = cache.keyOfEntity({ __typename: 'Book', id: bookId });
    const book: Data = { __typename: 'Book', id: bookId };
    const available = cache.resolve(bookKey, 'availableCopies');
    if (typeof available === 'number') book.availableCopies = Math.max(0, available - 1);
    const loan: Data = { __typename: 'Loan', id: `optimistic-borrow-${bookId}`, book };
    const copies = cache.resolve(bookKey, 'copies');
    if (typeof available === 'number' && available > 0 && Array.isArray(copies)) {
      const onShelf = copies.find((copy) => typeof copy === 'string' && cache.resolve(copy, 'status') === 'AVAILABLE');
      const copyId = typeof onShelf === 'string' ? cache.resolve(onShelf, 'id') : null;
      if (typeof copyId === 'string') loan.copy = { __typename: 'Copy', id: copyId, status: 'ON_LOAN' };
    }
    const me = viewerKey(cache);
    const userId = me ? cache.resolve(me, 'id') : null;
    if (typeof userId === 'string') loan.user = { __typename: 'User', id: userId };
    return loan;
  },
};
