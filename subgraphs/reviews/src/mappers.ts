/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Review } from './generated/prisma/client.js';
import type { ReviewPage } from './data/ReviewRepository.js';

export type ReviewModel = Review;
/** A book is only a reference here: its reviews and ratings are looked up by id through loaders. */
export type BookModel = { id: string };
/** A user is only a reference here: their reviews are looked up by id through a loader. */
export type UserModel = { id: string };
/** A page of reviews; totalCount is looked up only when selected. */
export type ReviewConnectionModel = ReviewPage;
