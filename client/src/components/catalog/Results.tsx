/**
 * One page-merged list of catalogue results, with live availability on every book, and "Load more",
 * which an IntersectionObserver also presses when the end of the list scrolls near.
 */
import { useEffect, useRef } from 'react';
import { Link } from '../../lib/router';
import { AvailabilityLine, type AvailabilityFields } from '../Availability';
import { ratingSummary } from './format';

/** What a result shows of a book (CatalogSearch's selection). */
export interface ResultBook extends AvailabilityFields {
  id: string;
  title: string;
  authors: string[];
  publishedYear: number | null;
  averageRating: number | null;
  reviewCount: number;
}

function ResultItem({ book }: { book: ResultBook }) {
  const meta = [book.authors.join(', '), book.publishedYear == null ? null : String(book.publishedYear)].filter(Boolean).join(' · ');
  return (
    <li className="card result">
      <h2 className="result-title">
        <Link to={`/books/${encodeURIComponent(book.id)}`}>{book.title}</Link>
      </h2>
      {meta && <p className="result-meta muted">{meta}</p>}
      <div className="result-status">
        <AvailabilityLine book={book} />
        <p className="result-rating muted">{ratingSummary(book.averageRating, book.reviewCount)}</p>
      </div>
    </li>
  );
}

export function ResultList({ books, busy }: { books: ResultBook[]; busy: boolean }) {
  return (
    <ul className="cards results" aria-busy={busy} aria-label="Results">
      {books.map((book) => (
        <ResultItem key={book.id} book={book} />
      ))}
    </ul>
  );
}

/**
 * "Load more": a real button (keyboard and screen readers), pressed automatically when it comes within
 * a screen of the viewport. Not pressed automatically while a page loads or after a failed page, so an
 * error cannot turn into a request loop.
 */
export function LoadMore({ onLoad, loading, failed, pageKey }: { onLoad: () => void; loading: boolean; failed: boolean; pageKey: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const latest = useRef({ onLoad, loading, failed });
  latest.current = { onLoad, loading, failed };

  useEffect(() => {
    const target = ref.current;
    if (!target || typeof IntersectionObserver !== 'function') return;
    const observer = new IntersectionObserver(
      (entries) => {
        const { onLoad: load, loading: busy, failed: broken } = latest.current;
        if (!busy && !broken && entries.some((entry) => entry.isIntersecting)) load();
      },
      { rootMargin: '0px 0px 600px 0px' },
    );
    // Observing again for each new page reports whether the end is still in view (a short page), so
    // the list keeps filling a tall screen instead of waiting for a scroll that cannot happen.
    observer.observe(target);
    return () => observer.disconnect();
  }, [pageKey]);

  return (
    <div ref={ref} className="load-more">
      {/* aria-disabled rather than disabled: a disabled button would drop the keyboard focus it holds. */}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          if (!loading) onLoad();
        }}
        aria-disabled={loading}
        aria-describedby={loading ? 'load-more-status' : undefined}
      >
        Load more
      </button>
      {loading && (
        <span id="load-more-status" className="muted" role="status">
          Loading more books…
        </span>
      )}
    </div>
  );
}
