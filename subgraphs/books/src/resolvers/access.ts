import { allow, type AccessRules } from '@shelfwise/kit';

/**
 * Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts).
 * The catalogue is public (API.md): anyone, signed in or not, may search it, read a book, its copies and
 * their status, including through `_entities`. A withdrawn book is hidden from `Query.book` by the
 * resolver (it returns null), which is catalogue curation, not access control.
 */
export const access: AccessRules = {
  Query: {
    book: allow.public,
    books: allow.public,
    copyByBarcode: allow.public,
  },
  Mutation: {
    addBook: allow.librarian,
    updateBook: allow.librarian,
    removeBook: allow.librarian,
    addCopies: allow.librarian,
    withdrawCopy: allow.librarian,
    markCopyLost: allow.librarian,
    // Internal operations (@inaccessible): only other subgraphs, with a service credential.
    allocateCopyForLoan: allow.service,
    cancelLoanAllocation: allow.service,
    checkInLoanCopy: allow.service,
    allocateCopyForHold: allow.service,
    releaseHoldCopy: allow.service,
    announceAvailability: allow.service,
  },
  // Availability is catalogue data (API.md: `bookAvailabilityChanged` is public).
  Subscription: { bookAvailabilityChanged: allow.public },
  BookAvailability: { '*': allow.public },
  Book: { '*': allow.public },
  Copy: { '*': allow.public },
  // Pages and facets carry nothing personal: the catalogue search that returns them is public.
  BookConnection: { '*': allow.public },
  BookEdge: { '*': allow.public },
  BookFacets: { '*': allow.public },
  FacetCount: { '*': allow.public },
  PageInfo: { '*': allow.public },
};
