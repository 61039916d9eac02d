import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Book } from './Book.js';
import { Mutation } from './Mutation.js';
import { Review } from './Review.js';
import { ReviewConnection } from './ReviewConnection.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Mutation, Review, Book, User, ReviewConnection };
