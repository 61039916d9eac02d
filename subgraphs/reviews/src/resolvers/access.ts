import { allow, type AccessRules } from '@shelfwise/kit';

/**
 * Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts).
 * Reviews and ratings are public catalogue content (API.md): anyone, signed in or not, may read a book's
 * reviews and rating, a review through `_entities`, and the reviews a user wrote (their author is shown
 * on every review anyway).
 */
export const access: AccessRules = {
  Review: { '*': allow.public },
  Book: { '*': allow.public },
  User: { '*': allow.public },
  // Pages carry nothing personal: the public lists that return them decide.
  ReviewConnection: { '*': allow.public },
  ReviewEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
};
