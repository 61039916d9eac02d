/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Book, Copy } from './generated/prisma/client.js';
import type { BookPage } from './data/BookRepository.js';

export type BookModel = Book;
export type CopyModel = Copy;
/** A page of search results; facets are computed only when selected. */
export type BookConnectionModel = BookPage;
