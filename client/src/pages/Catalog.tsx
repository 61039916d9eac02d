/**
 * The catalogue (`/`): search as you type, filters with facet counts, sorts, infinite scroll, and live
 * availability on every result. The whole search lives in the URL, so reload and Back keep it; "Load
 * more" pages are merged by the cache (relayPagination on Query.books), so the page keeps one query whose
 * `after` moves on.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { useLiveAvailability } from '../components/Availability';
import { Filters } from '../components/catalog/Filters';
import { LoadMore, ResultList } from '../components/catalog/Results';
import {
  effectiveSort,
  hasFilters,
  parseCatalogSearch,
  sortOptions,
  toSearchParamChanges,
  toSearchVariables,
  totalText,
  PAGE_SIZE,
  type SortKey,
} from '../components/catalog/search';
import { useUrlBackedText } from '../components/catalog/useDebounced';
import { ErrorMessage, Loading, PageHeading } from '../components/ui';
import { graphql } from '../gql';
import type { CatalogSearchQuery as CatalogSearchResult } from '../gql/graphql';
import { useRefetchOnReconnect } from '../lib/app';
import { setSearchParams, useLocation } from '../lib/router';

const CatalogSearchQuery = graphql(`
  query CatalogSearch($query: String, $filter: BookFilter, $sort: BookSort, $first: Int, $after: String) {
    books(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
      totalCount
      facets {
        genres {
          value
          count
        }
        authors {
          value
          count
        }
        languages {
          value
          count
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          title
          authors
          publishedYear
          averageRating
          reviewCount
          availableCopies
          totalCopies
          holdQueueLength
        }
      }
    }
  }
`);

type Books = CatalogSearchResult['books'];

/** Which search some variables are for, whatever page (`after`) they ask for. */
function searchKeyOf(variables: object): string {
  const { after: _after, ...rest } = variables as { after?: unknown };
  return JSON.stringify(rest);
}

export function Catalog() {
  const client = useClient();
  const { search: params } = useLocation();
  const paramsKey = params.toString();
  const search = useMemo(() => parseCatalogSearch(new URLSearchParams(paramsKey)), [paramsKey]);
  const base = useMemo(() => toSearchVariables(search), [search]);
  const searchKey = searchKeyOf(base);

  // Where the list has got to; a new search starts again at the first page.
  const [page, setPage] = useState<{ searchKey: string; after: string | null }>({ searchKey, after: null });
  const after = page.searchKey === searchKey ? page.after : null;
  const variables = useMemo(() => (after ? { ...base, after } : base), [base, after]);
  const [result] = useQuery({ query: CatalogSearchQuery, variables, requestPolicy: 'cache-and-network' });

  // A failed "Load more" answers with no data: keep showing the pages already there, with the error.
  // (While a new search loads, urql keeps the previous search's data; it is shown, marked busy.)
  const lastGood = useRef<{ searchKey: string; books: Books } | null>(null);
  if (result.data && result.operation && searchKeyOf(result.operation.variables) === searchKey) {
    lastGood.current = { searchKey, books: result.data.books };
  }
  const books = result.data?.books ?? (lastGood.current?.searchKey === searchKey ? lastGood.current.books : undefined);
  const pageFailed = Boolean(result.error && books);

  const shown = useMemo(() => books?.edges.map((edge) => edge.node) ?? [], [books]);
  useLiveAvailability(useMemo(() => shown.map((book) => book.id), [shown]));

  // Availability events sent while the socket was down are lost: fetch every shown page again.
  const shownCount = shown.length;
  useRefetchOnReconnect(
    useCallback(() => {
      void (async () => {
        let cursor: string | null = null;
        for (let fetched = 0; fetched < Math.max(shownCount, 1); fetched += PAGE_SIZE) {
          const { data } = await client
            .query(CatalogSearchQuery, cursor ? { ...base, after: cursor } : base, { requestPolicy: 'network-only' })
            .toPromise();
          cursor = data?.books.pageInfo.endCursor ?? null;
          if (!data?.books.pageInfo.hasNextPage || !cursor) break;
        }
      })();
    }, [client, base, shownCount]),
  );

  const [text, setText] = useUrlBackedText(search.q, (q) => setSearchParams(toSearchParamChanges({ q })));

  const loadMore = useCallback(() => {
    const endCursor = books?.pageInfo.endCursor;
    if (books?.pageInfo.hasNextPage && endCursor) setPage({ searchKey, after: endCursor });
  }, [books, searchKey]);

  const sort = effectiveSort(search);
  const firstLoad = !books && result.fetching;
  // Asked for the page after `after`, and the list still ends there.
  const loadingMore = Boolean(after) && result.fetching && books?.pageInfo.endCursor === after;

  return (
    <section className="catalog">
      <PageHeading title="Catalogue">Catalogue</PageHeading>
      <form role="search" className="catalog-search" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="catalog-q">Search the catalogue</label>
        <input
          id="catalog-q"
          type="search"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="Title, author, description or ISBN"
          autoComplete="off"
          spellCheck={false}
          aria-describedby="catalog-total"
        />
      </form>

      <div className="catalog-layout">
        <Filters search={search} facets={books?.facets ?? null} />

        <div className="catalog-results">
          <div className="results-bar">
            <p id="catalog-total" className="results-total" role="status">
              {books ? totalText(books.totalCount) : ''}
              {books && result.fetching && !loadingMore ? <span className="muted"> · updating…</span> : null}
            </p>
            <div className="field sort">
              <label htmlFor="catalog-sort">Sort by</label>
              <select
                id="catalog-sort"
                value={sort}
                onChange={(event) => setSearchParams(toSearchParamChanges({ sort: event.target.value as SortKey }))}
              >
                {sortOptions(Boolean(search.q)).map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </select>
            </div>
          </div>

          {firstLoad && <Loading label="Searching the catalogue…" />}
          {!books && <ErrorMessage error={result.error} />}

          {books && shown.length === 0 && !result.fetching && <NoMatches query={search.q} filtered={hasFilters(search)} />}

          {books && shown.length > 0 && (
            <>
              <ResultList books={shown} busy={result.fetching} />
              {pageFailed && <ErrorMessage error={result.error} title="More results could not be loaded." />}
              {books.pageInfo.hasNextPage && (
                <LoadMore onLoad={loadMore} loading={loadingMore} failed={pageFailed} pageKey={books.pageInfo.endCursor ?? ''} />
              )}
              {!books.pageInfo.hasNextPage && shown.length > PAGE_SIZE && <p className="muted end-of-list">That is every match.</p>}
            </>
          )}
        </div>
      </div>
    </section>
  );
}

function NoMatches({ query, filtered }: { query: string; filtered: boolean }) {
  return (
    <div className="empty-results">
      <p className="empty">
        {query ? `No books match “${query}”${filtered ? ' with these filters' : ''}.` : 'No books match these filters.'}
      </p>
      {filtered ? (
        <p className="muted">Try removing a filter, or press “Clear filters” to search the whole catalogue.</p>
      ) : (
        <p className="muted">Check the spelling, or try fewer or other words.</p>
      )}
    </div>
  );
}
