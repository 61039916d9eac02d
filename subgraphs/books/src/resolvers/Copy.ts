import { appError, ErrorCode } from '@shelfwise/kit';
import type { CopyResolvers } from '../generated/graphql.js';

export const Copy: CopyResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.copy.load(ref.id),
  book: async (copy, _args, { loaders }) => {
    const book = await loaders.book.load(copy.bookId);
    // A copy without its book would mean a broken foreign key: report it, do not invent one.
    if (!book) throw appError(ErrorCode.INTERNAL_SERVER_ERROR, `Copy ${copy.id} has no book.`);
    return book;
  },
};
