/**
 * @jest-environment jsdom
 */
import { jest } from '@jest/globals';
import { act, render, screen, fireEvent } from '@testing-library/react';
import { useState } from 'react';
import { Client, Provider, type Exchange } from 'urql';
import { filter, pipe, tap } from 'wonka';
import { availabilityText, chunkIds, useLiveAvailability, waitingText } from '../src/components/Availability';
import { ratingSummary } from '../src/components/catalog/format';
import {
  effectiveSort,
  parseCatalogSearch,
  parseYear,
  sortOptions,
  toSearchParamChanges,
  toSearchVariables,
  totalText,
  CLEAR_FILTERS,
} from '../src/components/catalog/search';
import { useDebouncedValue, useUrlBackedText } from '../src/components/catalog/useDebounced';

describe('availability texts', () => {
  it('say how many copies are on the shelf and who waits', () => {
    expect(availabilityText(2, 3)).toBe('2 of 3 on the shelf');
    expect(availabilityText(0, 1)).toBe('0 of 1 on the shelf');
    expect(waitingText(0)).toBeNull();
    expect(waitingText(1)).toBe('1 person waiting');
    expect(waitingText(4)).toBe('4 people waiting');
  });

  it('totals, ratings', () => {
    expect(totalText(128)).toBe('128 books');
    expect(totalText(1)).toBe('1 book');
    expect(totalText(0)).toBe('0 books');
    // The API counts exactly up to 1,000.
    expect(totalText(1000)).toBe('1,000 or more books');
    expect(ratingSummary(4.25, 12)).toBe('4.3 out of 5 from 12 reviews');
    expect(ratingSummary(5, 1)).toBe('5.0 out of 5 from 1 review');
    expect(ratingSummary(null, 0)).toBe('No reviews yet');
  });
});

describe('chunkIds', () => {
  it('splits ids into lists the router accepts, each id once, keeping earlier chunks when more ids come', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `b${i}`);
    const chunks = chunkIds([...ids, 'b0', 'b1']);
    expect(chunks.map((chunk) => chunk.length)).toEqual([100, 100, 50]);
    expect(chunks.flat()).toEqual(ids);
    // Another page of results leaves the first chunks as they were (no resubscription).
    const more = chunkIds([...ids, 'b250']);
    expect(more[0]).toEqual(chunks[0]);
    expect(more[1]).toEqual(chunks[1]);
    expect(chunkIds([])).toEqual([]);
  });
});

describe('useLiveAvailability', () => {
  /** A client that records the subscriptions opened and closed and answers nothing. */
  function recordingClient() {
    const opened: string[][] = [];
    const closed: number[] = [];
    const record: Exchange = () => (ops$) =>
      pipe(
        ops$,
        tap((op) => {
          if (op.kind === 'subscription') opened.push((op.variables as { bookIds: string[] }).bookIds);
          if (op.kind === 'teardown') closed.push(op.key);
        }),
        // Nothing is answered: the test is about what is opened and closed.
        filter((_op): _op is never => false),
      );
    return { client: new Client({ url: 'http://test/graphql', exchanges: [record] }), opened, closed };
  }

  function Watch({ ids }: { ids: string[] }) {
    useLiveAvailability(ids);
    return null;
  }

  it('opens nothing for no books, one subscription per 100 ids, and only the new chunk when a page is added', () => {
    const { client, opened, closed } = recordingClient();
    const page = (n: number) => Array.from({ length: n }, (_, i) => `book-${i}`);
    const { rerender, unmount } = render(
      <Provider value={client}>
        <Watch ids={[]} />
      </Provider>,
    );
    expect(opened).toHaveLength(0);

    rerender(
      <Provider value={client}>
        <Watch ids={page(120)} />
      </Provider>,
    );
    expect(opened.map((ids) => ids.length)).toEqual([100, 20]);

    // The same ids in a new array: nothing changes.
    rerender(
      <Provider value={client}>
        <Watch ids={page(120)} />
      </Provider>,
    );
    expect(opened).toHaveLength(2);

    // A page more: the first chunk stays, the second is replaced.
    rerender(
      <Provider value={client}>
        <Watch ids={page(140)} />
      </Provider>,
    );
    expect(opened.map((ids) => ids.length)).toEqual([100, 20, 40]);
    expect(closed).toHaveLength(1);

    unmount();
    expect(closed).toHaveLength(3);
  });
});

describe('the search in the URL', () => {
  it('reads every parameter and ignores malformed ones', () => {
    const search = parseCatalogSearch(
      new URLSearchParams('q=%20dune%20&genre=Science+Fiction&author=Herbert&language=en&available=1&from=1960&to=abc&sort=newest'),
    );
    expect(search).toEqual({
      q: 'dune',
      genre: 'Science Fiction',
      author: 'Herbert',
      language: 'en',
      available: true,
      from: 1960,
      to: null,
      sort: 'newest',
    });
    expect(parseCatalogSearch(new URLSearchParams('sort=sideways&available=yes')).sort).toBeNull();
    expect(parseCatalogSearch(new URLSearchParams('available=yes')).available).toBe(false);
  });

  it('offers relevance only with a query, and falls back to the default order without one', () => {
    expect(parseCatalogSearch(new URLSearchParams('sort=relevance')).sort).toBeNull();
    expect(parseCatalogSearch(new URLSearchParams('q=x&sort=relevance')).sort).toBe('relevance');
    expect(effectiveSort(parseCatalogSearch(new URLSearchParams('')))).toBe('title');
    expect(effectiveSort(parseCatalogSearch(new URLSearchParams('q=dune')))).toBe('relevance');
    expect(sortOptions(false).map((o) => o.label)).toEqual(['Title', 'Author', 'Newest', 'Oldest']);
    expect(sortOptions(true).map((o) => o.label)).toEqual(['Relevance', 'Title', 'Author', 'Newest', 'Oldest']);
  });

  it('turns into the API variables, sending only what narrows the search', () => {
    expect(toSearchVariables(parseCatalogSearch(new URLSearchParams('')))).toEqual({ first: 20 });
    expect(
      toSearchVariables(parseCatalogSearch(new URLSearchParams('q=dune&genre=Fantasy&available=1&from=1900&to=1999&sort=oldest'))),
    ).toEqual({
      query: 'dune',
      filter: { genre: 'Fantasy', availableOnly: true, publishedFrom: 1900, publishedTo: 1999 },
      sort: 'OLDEST',
      first: 20,
    });
  });

  it('round-trips through URL changes, and clearing filters keeps the words', () => {
    const params = new URLSearchParams('q=dune&genre=Fantasy&available=1&from=1900');
    const apply = (changes: Record<string, string | null>) => {
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) params.delete(key);
        else params.set(key, value);
      }
    };
    apply(toSearchParamChanges({ author: 'Le Guin', to: 2000, sort: 'author' }));
    expect(params.toString()).toBe('q=dune&genre=Fantasy&available=1&from=1900&author=Le+Guin&to=2000&sort=author');
    apply(toSearchParamChanges(CLEAR_FILTERS));
    expect(params.toString()).toBe('q=dune&sort=author');
    apply(toSearchParamChanges({ q: '   ' }));
    expect(params.toString()).toBe('sort=author');
  });

  it('reads years strictly', () => {
    expect(parseYear('1999')).toBe(1999);
    expect(parseYear(' 42 ')).toBe(42);
    expect(parseYear('')).toBeNull();
    expect(parseYear('19.5')).toBeNull();
    expect(parseYear('1e3')).toBeNull();
    expect(parseYear(null)).toBeNull();
  });
});

describe('typing waits for a pause', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function Debounced({ onValue }: { onValue: (value: string) => void }) {
    const [text, setText] = useState('');
    const settled = useDebouncedValue(text, 250);
    onValue(settled);
    return <input aria-label="text" value={text} onChange={(event) => setText(event.target.value)} />;
  }

  it('useDebouncedValue settles once after the last change', () => {
    const values: string[] = [];
    render(<Debounced onValue={(value) => values.push(value)} />);
    const input = screen.getByLabelText('text');
    for (const text of ['d', 'du', 'dun', 'dune']) {
      fireEvent.change(input, { target: { value: text } });
      act(() => jest.advanceTimersByTime(100));
    }
    expect(new Set(values)).toEqual(new Set(['']));
    act(() => jest.advanceTimersByTime(250));
    expect(values[values.length - 1]).toBe('dune');
    expect(new Set(values)).toEqual(new Set(['', 'dune']));
  });

  function UrlText({ url, push }: { url: string; push: (value: string) => void }) {
    const [text, setText] = useUrlBackedText(url, push);
    return <input aria-label="search" value={text} onChange={(event) => setText(event.target.value)} />;
  }

  it('useUrlBackedText pushes one settled value and follows the URL when it changes elsewhere', () => {
    const pushed: string[] = [];
    const { rerender } = render(<UrlText url="" push={(value) => pushed.push(value)} />);
    const input = screen.getByLabelText<HTMLInputElement>('search');
    for (const text of ['d', 'du', 'dune', 'dune ']) {
      fireEvent.change(input, { target: { value: text } });
      act(() => jest.advanceTimersByTime(50));
    }
    act(() => jest.advanceTimersByTime(250));
    expect(pushed).toEqual(['dune ']);

    // The URL echoes the trimmed value: the space being typed stays.
    rerender(<UrlText url="dune" push={(value) => pushed.push(value)} />);
    expect(input.value).toBe('dune ');

    // Back, or "Clear": the URL changed from elsewhere and the box follows without pushing it again.
    rerender(<UrlText url="tolkien" push={(value) => pushed.push(value)} />);
    expect(input.value).toBe('tolkien');
    act(() => jest.advanceTimersByTime(500));
    expect(pushed).toEqual(['dune ']);
  });
});
