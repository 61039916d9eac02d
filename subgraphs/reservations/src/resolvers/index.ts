import { DateTimeScalar } from '@shelfwise/kit';
import type { Resolvers } from '../generated/graphql.js';
import { Book } from './Book.js';
import { Copy } from './Copy.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { Reservation } from './Reservation.js';
import { User } from './User.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, Reservation, User, Book, Copy };
