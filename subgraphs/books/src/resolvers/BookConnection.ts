import type { BookConnectionResolvers } from '../generated/graphql.js';

export const BookConnection: BookConnectionResolvers = {
  // Facets cost a scan of the matching rows, so they are computed only when selected.
  facets: (connection) => connection.facets(),
};
