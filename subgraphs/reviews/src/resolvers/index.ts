import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Book } from './Book.js';
import { Review } from './Review.js';
import { ReviewConnection } from './ReviewConnection.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Review, Book, User, ReviewConnection };
