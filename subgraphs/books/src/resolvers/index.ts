import type { Resolvers } from '../generated/graphql.js';
import { Book } from './Book.js';
import { BookConnection } from './BookConnection.js';
import { Copy } from './Copy.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';

export const resolvers: Resolvers = { Query, Mutation, Subscription, Book, Copy, BookConnection };
