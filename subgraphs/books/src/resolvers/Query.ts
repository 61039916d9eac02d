import { badInput, pageSize } from '@shelfwise/kit';
import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { QueryResolvers } from '../generated/graphql.js';

const MAX_QUERY_LENGTH = 200;

export const Query: QueryResolvers = {
  book: async (_parent, { id }, { loaders }) => {
    const book = await loaders.book.load(id);
    return book && !book.withdrawnAt ? book : null;
  },
  copyByBarcode: (_parent, { barcode }, { catalog }) => catalog.copyByBarcode(barcode),
  books: async (_parent, args, { books, loaders }, info) => {
    if (args.query && args.query.length > MAX_QUERY_LENGTH) throw badInput(`A search is at most ${MAX_QUERY_LENGTH} characters.`);
    const filter = args.filter ?? {};
    if (filter.publishedFrom != null && filter.publishedTo != null && filter.publishedFrom > filter.publishedTo) {
      throw badInput('"publishedFrom" must not be after "publishedTo".');
    }
    const page = await books.search({
      query: args.query,
      ...filter,
      sort: args.sort ?? (args.query ? 'RELEVANCE' : 'TITLE'),
      first: pageSize(args.first),
      after: args.after,
      // Facets in the same statement as the page when the query selects them (docs/api.md, "Search").
      withFacets: selects(info, 'facets'),
    });
    for (const edge of page.edges) loaders.book.prime(edge.node.id, edge.node);
    return page;
  },
};

/** Whether the field being resolved selects `name` directly (through fragments too). */
function selects(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((s) => {
      if (s.kind === 'Field') return s.name.value === name;
      if (s.kind === 'InlineFragment') return visit(s.selectionSet);
      return visit(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}
