import { allow, type AccessRules } from '@shelfwise/kit';

/**
 * Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts).
 * Reviews and ratings are public catalogue content (API.md): anyone, signed in or not, may read a book's
 * reviews and rating, a review through `_entities`, and the reviews a user wrote (their author is shown
 * on every review anyway). `Review.verifiedBorrower` is public too: it only says whether the author
 * borrowed the one book they chose to review in public, never anything else about their loans.
 *
 * Writing needs a signed-in user. Who may change or remove a particular review depends on the review
 * (its author; staff may remove, never rewrite), so the repository checks that on the locked row.
 */
export const access: AccessRules = {
  Mutation: {
    writeReview: allow.signedIn,
    updateReview: allow.signedIn,
    deleteReview: allow.signedIn,
  },
  Review: { '*': allow.public },
  Book: { '*': allow.public },
  User: { '*': allow.public },
  // Pages carry nothing personal: the public lists that return them decide.
  ReviewConnection: { '*': allow.public },
  ReviewEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
};
