/**
 * The catalogue search as it lives in the URL (`?q=&genre=&author=&language=&available=1&from=&to=&sort=`),
 * so a reload, a shared link or Back after opening a book lands on the same results. Pure functions: the
 * page reads the URL through {@link parseCatalogSearch}, writes changes with {@link toSearchParamChanges}
 * and asks the API with {@link toSearchVariables}.
 */
import type { BookFilter, BookSort } from '../../gql/graphql';

/** How the results are ordered, as written in the URL. */
export type SortKey = 'relevance' | 'title' | 'author' | 'newest' | 'oldest';

/** Everything the catalogue search is narrowed by. Empty strings and nulls mean "not narrowed". */
export interface CatalogSearch {
  q: string;
  genre: string;
  author: string;
  language: string;
  available: boolean;
  from: number | null;
  to: number | null;
  /** Null: the default order (relevance with a query, title without). */
  sort: SortKey | null;
}

/** Books per page (and per "Load more"). */
export const PAGE_SIZE = 20;

const SORTS: Record<SortKey, BookSort> = {
  relevance: 'RELEVANCE',
  title: 'TITLE',
  author: 'AUTHOR',
  newest: 'NEWEST',
  oldest: 'OLDEST',
};

/** The "Sort by" options, in the order shown; relevance only makes sense for a query. */
export function sortOptions(hasQuery: boolean): { value: SortKey; label: string }[] {
  const options: { value: SortKey; label: string }[] = [
    { value: 'title', label: 'Title' },
    { value: 'author', label: 'Author' },
    { value: 'newest', label: 'Newest' },
    { value: 'oldest', label: 'Oldest' },
  ];
  return hasQuery ? [{ value: 'relevance', label: 'Relevance' }, ...options] : options;
}

function isSortKey(value: string): value is SortKey {
  return Object.prototype.hasOwnProperty.call(SORTS, value);
}

/** A year from the URL or a number input: a whole number, or null for anything else (blank, "abc", "19.5"). */
export function parseYear(value: string | null | undefined): number | null {
  const text = value?.trim() ?? '';
  if (!/^-?\d{1,4}$/.test(text)) return null;
  return Number(text);
}

/** The search described by a URL query. Unknown or malformed values are ignored rather than sent. */
export function parseCatalogSearch(params: URLSearchParams): CatalogSearch {
  const q = (params.get('q') ?? '').trim();
  const sort = params.get('sort');
  return {
    q,
    genre: params.get('genre') ?? '',
    author: params.get('author') ?? '',
    language: params.get('language') ?? '',
    available: params.get('available') === '1',
    from: parseYear(params.get('from')),
    to: parseYear(params.get('to')),
    // "relevance" without a query has nothing to rank by: fall back to the default order.
    sort: sort && isSortKey(sort) && (sort !== 'relevance' || q) ? sort : null,
  };
}

/** The sort shown in the "Sort by" select: the chosen one, or the server's default for this search. */
export function effectiveSort(search: CatalogSearch): SortKey {
  return search.sort ?? (search.q ? 'relevance' : 'title');
}

/**
 * The URL parameters for a (partial) change of the search, for `setSearchParams`: null removes a
 * parameter, so the URL only carries what narrows the results.
 */
export function toSearchParamChanges(change: Partial<CatalogSearch>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if ('q' in change) out.q = change.q?.trim() || null;
  if ('genre' in change) out.genre = change.genre || null;
  if ('author' in change) out.author = change.author || null;
  if ('language' in change) out.language = change.language || null;
  if ('available' in change) out.available = change.available ? '1' : null;
  if ('from' in change) out.from = change.from == null ? null : String(change.from);
  if ('to' in change) out.to = change.to == null ? null : String(change.to);
  if ('sort' in change) out.sort = change.sort ?? null;
  return out;
}

/** Every parameter cleared except the words searched for ("Clear filters"). */
export const CLEAR_FILTERS: Partial<CatalogSearch> = {
  genre: '',
  author: '',
  language: '',
  available: false,
  from: null,
  to: null,
};

/** Whether anything besides the words narrows the results. */
export function hasFilters(search: CatalogSearch): boolean {
  return Boolean(search.genre || search.author || search.language || search.available || search.from != null || search.to != null);
}

/** Variables of the search query (without `after`): only what is set, so equal searches share a cache entry. */
export function toSearchVariables(search: CatalogSearch): { query?: string; filter?: BookFilter; sort?: BookSort; first: number } {
  const filter: BookFilter = {};
  if (search.genre) filter.genre = search.genre;
  if (search.author) filter.author = search.author;
  if (search.language) filter.language = search.language;
  if (search.available) filter.availableOnly = true;
  if (search.from != null) filter.publishedFrom = search.from;
  if (search.to != null) filter.publishedTo = search.to;
  return {
    ...(search.q ? { query: search.q } : {}),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(search.sort ? { sort: SORTS[search.sort] } : {}),
    first: PAGE_SIZE,
  };
}

/** "128 books", "1 book"; the API counts exactly up to 1,000 and says 1,000 for anything above. */
export function totalText(totalCount: number): string {
  if (totalCount >= 1000) return '1,000 or more books';
  return `${totalCount.toLocaleString('en')} ${totalCount === 1 ? 'book' : 'books'}`;
}

const languageNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'language' }) : null;

/** A language code as a name ("en" → "English"); the code itself when it is not one Intl knows. */
export function languageName(code: string): string {
  try {
    const name = languageNames?.of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}
