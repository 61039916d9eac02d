/**
 * A book's reviews: the average, the newest first with "Load more reviews", and for a signed-in reader
 * their own review (write it, edit it, delete it). More pages are fetched on their own and merged into the
 * first page's list by the cache (relayPagination on Book.reviews); after a review changes, the cache
 * drops the book's pages and this list starts again from the newest.
 */
import { useRef, useState } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import { useSession } from '../../lib/app';
import { Link } from '../../lib/router';
import { ErrorMessage, formatDate, Loading } from '../ui';
import { ratingSummary, stars } from './format';
import { ReviewForm } from './ReviewForm';

/** Reviews per page. */
export const REVIEWS_PAGE_SIZE = 10;

const BookReviewsQuery = graphql(`
  query BookPageReviews($id: ID!, $first: Int, $after: String) {
    book(id: $id) {
      id
      reviews(first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            id
            rating
            body
            createdAt
            updatedAt
            author {
              id
              name
            }
            book {
              id
            }
          }
        }
      }
    }
  }
`);

const DeleteReviewMutation = graphql(`
  mutation BookPageDeleteReview($id: ID!) {
    deleteReview(id: $id)
  }
`);

/** A review as the page shows it. */
export interface ReviewView {
  id: string;
  rating: number;
  body: string | null;
  createdAt: string;
  updatedAt: string;
  author: { id: string; name: string };
}

function ReviewMeta({ review, own }: { review: ReviewView; own: boolean }) {
  const edited = review.updatedAt !== review.createdAt;
  return (
    <p className="review-meta">
      <span className="stars" aria-hidden="true">
        {stars(review.rating)}
      </span>{' '}
      <span className="visually-hidden">{review.rating} out of 5, </span>
      <strong>{review.author.name}</strong>
      {own && ' (you)'} · <time dateTime={review.createdAt}>{formatDate(review.createdAt)}</time>
      {edited && <span className="muted"> · edited</span>}
    </p>
  );
}

function ReviewItem({ review, own }: { review: ReviewView; own: boolean }) {
  return (
    <li className="review">
      <ReviewMeta review={review} own={own} />
      {/* Plain text from the author, rendered as text (React escapes it), line breaks kept by CSS. */}
      {review.body && <p className="review-body">{review.body}</p>}
    </li>
  );
}

/** The reader's own review with Edit and Delete (which asks first). */
function OwnReview({ review, onEdit, onDeleted }: { review: ReviewView; onEdit: () => void; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [deleted, remove] = useMutation(DeleteReviewMutation);
  const [error, setError] = useState<CombinedError | null>(null);

  const confirmDelete = async () => {
    if (deleted.fetching) return;
    setError(null);
    const result = await remove({ id: review.id });
    if (result.error) setError(result.error);
    else onDeleted();
  };

  return (
    <div className="own-review card">
      <h3>Your review</h3>
      <ReviewMeta review={review} own={false} />
      {review.body && <p className="review-body">{review.body}</p>}
      {confirming ? (
        <div className="confirm" role="group" aria-labelledby="delete-review-question">
          <p id="delete-review-question">Delete your review for good?</p>
          <div className="row">
            <button type="button" onClick={() => void confirmDelete()} aria-disabled={deleted.fetching}>
              Yes, delete it
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)} autoFocus>
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <div className="row">
          <button type="button" className="secondary" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Delete
          </button>
        </div>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}

export function Reviews({
  bookId,
  averageRating,
  reviewCount,
  myReview,
  viewerReady,
}: {
  bookId: string;
  averageRating: number | null;
  reviewCount: number;
  /** The signed-in reader's review of this book, as far as their own list of reviews shows it. */
  myReview: ReviewView | null;
  /** False while the reader's own reviews are loading: no form flashes up for someone who has reviewed. */
  viewerReady: boolean;
}) {
  const { user } = useSession();
  const client = useClient();
  const [result] = useQuery({ query: BookReviewsQuery, variables: { id: bookId, first: REVIEWS_PAGE_SIZE } });
  const [more, setMore] = useState<{ loading: boolean; error: CombinedError | null }>({ loading: false, error: null });
  const [editing, setEditing] = useState(false);
  // Between the server's answer and the refetch of the reader's reviews, what this page just did.
  const [posted, setPosted] = useState(false);
  const [deletedId, setDeletedId] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const connection = result.data?.book?.reviews;
  const reviews: ReviewView[] = connection?.edges.map((edge) => edge.node) ?? [];
  const mine =
    [myReview, reviews.find((review) => review.author.id === user?.id)].find(
      (review): review is ReviewView => review != null && review.id !== deletedId,
    ) ?? null;

  const loadMore = async () => {
    const after = connection?.pageInfo.endCursor;
    if (!after || more.loading) return;
    setMore({ loading: true, error: null });
    // Written to the cache, where relayPagination appends it to the list this component reads.
    const page = await client
      .query(BookReviewsQuery, { id: bookId, first: REVIEWS_PAGE_SIZE, after }, { requestPolicy: 'network-only' })
      .toPromise();
    setMore({ loading: false, error: page.error ?? null });
  };

  const settled = () => {
    setEditing(false);
    headingRef.current?.focus();
  };

  let own = null;
  if (!user) {
    own = (
      <p>
        <Link to={`/signin?next=/books/${encodeURIComponent(bookId)}`}>Sign in to write a review</Link>
      </p>
    );
  } else if (!viewerReady) {
    own = null;
  } else if (mine && editing) {
    own = <ReviewForm bookId={bookId} editing={mine} onDone={settled} onCancel={() => setEditing(false)} />;
  } else if (mine) {
    own = (
      <OwnReview
        review={mine}
        onEdit={() => setEditing(true)}
        onDeleted={() => {
          setDeletedId(mine.id);
          setPosted(false);
          settled();
        }}
      />
    );
  } else if (posted) {
    own = <Loading label="Posting your review…" />;
  } else {
    own = (
      <ReviewForm
        bookId={bookId}
        editing={null}
        onDone={() => {
          setPosted(true);
          settled();
        }}
      />
    );
  }

  return (
    <section className="reviews" aria-labelledby="reviews-heading">
      <h2 id="reviews-heading" ref={headingRef} tabIndex={-1}>
        Reviews
      </h2>
      <p className="rating-summary">
        {averageRating != null && reviewCount > 0 && (
          <span className="stars" aria-hidden="true">
            {stars(averageRating)}{' '}
          </span>
        )}
        {ratingSummary(averageRating, reviewCount)}
      </p>
      {own}
      {result.fetching && !connection && <Loading label="Loading reviews…" />}
      <ErrorMessage error={result.error} />
      {reviews.length > 0 && (
        <ul className="review-list">
          {reviews.map((review) => (
            <ReviewItem key={review.id} review={review} own={review.id === mine?.id} />
          ))}
        </ul>
      )}
      {connection?.pageInfo.hasNextPage && (
        <div className="load-more">
          <button type="button" className="secondary" onClick={() => void loadMore()} aria-disabled={more.loading}>
            Load more reviews
          </button>
          {more.loading && (
            <span className="muted" role="status">
              Loading more reviews…
            </span>
          )}
        </div>
      )}
      <ErrorMessage error={more.error} />
    </section>
  );
}
