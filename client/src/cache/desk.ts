/**
 * Cache updates for the librarian's screens (books, copies, desk, patrons, fines, policies).
 *
 * Most changes need nothing here because the mutations select what they change and the normalized cache
 * takes it from there: checkOutCopy, checkInCopy, withdrawCopy, markCopyLost and addCopies all select
 * `book { id availableCopies totalCopies }` (and the copy's `status`), updateLoanPolicy selects the
 * policy (keyed by role), setUserRole selects the user's `role`, waiveFine and recordDeskPayment select
 * the fines' new `status`. What no selection can carry — lists and totals computed elsewhere (a patron's
 * loans, fines and balance; catalogue searches) — is invalidated below, so screens showing them refetch.
 */
import type { Cache, Data, OptimisticMutationConfig, UpdatesConfig } from '@urql/exchange-graphcache';

/** Invalidates every cached variant of `fieldName` on an entity (each set of arguments is its own key). */
export function invalidateField(cache: Cache, entity: { __typename: string; id: string } | 'Query', fieldName: string): void {
  const key = entity === 'Query' ? 'Query' : cache.keyOfEntity(entity);
  if (!key) return;
  for (const field of cache.inspectFields(key)) {
    if (field.fieldName === fieldName) cache.invalidate(key, field.fieldName, field.arguments ?? undefined);
  }
}

/** `result[field].user.id` (or `result[field].fines[…].user.id`) when the selection carried it. */
function idAt(value: unknown, ...path: string[]): string | undefined {
  let here: unknown = value;
  for (const step of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, unknown>)[step];
  }
  return typeof here === 'string' ? here : undefined;
}

const user = (id: string) => ({ __typename: 'User', id });

/** A patron's loans changed: their lists and counts (User.loans) and staff's loan lists (Query.loans). */
function loansChanged(cache: Cache, userId: string | undefined): void {
  if (userId) invalidateField(cache, user(userId), 'loans');
  invalidateField(cache, 'Query', 'loans');
}

/** A patron's money changed: their fines (every status filter), balance and payments. */
function moneyChanged(cache: Cache, userId: string | undefined): void {
  if (!userId) return;
  for (const field of ['fines', 'balanceCents', 'payments']) invalidateField(cache, user(userId), field);
}

const variable = (args: Record<string, unknown>, ...path: string[]) => idAt(args, ...path);

export const deskUpdates: UpdatesConfig = {
  Mutation: {
    // A new book may belong in searches already on screen.
    addBook: (_result, _args, cache) => invalidateField(cache, 'Query', 'books'),
    // The book leaves the catalogue: `book(id)` answers null from now on, and searches drop it.
    removeBook: (result: Data, args, cache) => {
      if (result.removeBook !== true) return;
      const id = variable(args, 'id');
      if (id) cache.invalidate({ __typename: 'Book', id });
      invalidateField(cache, 'Query', 'books');
    },
    // A checkout may also fulfil the patron's READY hold on the book.
    checkOutCopy: (result: Data, args, cache) => {
      const borrower = idAt(result, 'checkOutCopy', 'user', 'id') ?? variable(args, 'userId');
      loansChanged(cache, borrower);
      if (borrower) invalidateField(cache, user(borrower), 'reservations');
    },
    // A return ends a loan, may assess an overdue fine, and may make someone's hold READY.
    checkInCopy: (result: Data, _args, cache) => {
      const borrower = idAt(result, 'checkInCopy', 'user', 'id');
      loansChanged(cache, borrower);
      moneyChanged(cache, borrower);
      const holder = idAt(result, 'checkInCopy', 'copy', 'heldFor', 'user', 'id');
      if (holder) invalidateField(cache, user(holder), 'reservations');
      const bookId = idAt(result, 'checkInCopy', 'book', 'id');
      if (bookId) {
        invalidateField(cache, { __typename: 'Book', id: bookId }, 'holdQueueLength');
        invalidateField(cache, { __typename: 'Book', id: bookId }, 'holdQueue');
      }
    },
    assessFine: (result: Data, args, cache) =>
      moneyChanged(cache, idAt(result, 'assessFine', 'user', 'id') ?? variable(args, 'input', 'userId')),
    waiveFine: (result: Data, _args, cache) => moneyChanged(cache, idAt(result, 'waiveFine', 'user', 'id')),
    recordDeskPayment: (result: Data, args, cache) =>
      moneyChanged(cache, idAt(result, 'recordDeskPayment', 'user', 'id') ?? variable(args, 'input', 'userId')),
  },
};

/** The librarian's screens wait for the server: every one of these changes can be refused. */
export const deskOptimistic: OptimisticMutationConfig = {};
