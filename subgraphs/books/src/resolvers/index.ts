import type { Resolvers } from '../generated/graphql.js';
import { Book } from './Book.js';
import { BookConnection } from './BookConnection.js';
import { Copy } from './Copy.js';
import { Query } from './Query.js';

export const resolvers: Resolvers = { Query, Book, Copy, BookConnection };
