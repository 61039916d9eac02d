/**
 * A book (`/books/:id`): its details, live availability, its copies, what the reader can do with it
 * (borrow, place a hold, sign in) and its reviews. Availability is live: another reader's borrow or
 * return changes the line and the buttons here without a reload.
 */
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { AvailabilityLine, useLiveAvailability } from '../components/Availability';
import { BookActions, type ViewerStanding } from '../components/catalog/BookActions';
import { copyStatusText } from '../components/catalog/format';
import { Reviews, type ReviewView } from '../components/catalog/Reviews';
import { languageName } from '../components/catalog/search';
import { ErrorMessage, Loading, PageHeading } from '../components/ui';
import { graphql } from '../gql';
import { useRefetchOnReconnect, useSession } from '../lib/app';
import { Link } from '../lib/router';

const BookQuery = graphql(`
  query BookPage($id: ID!) {
    book(id: $id) {
      id
      isbn
      title
      authors
      genres
      publishedYear
      language
      description
      totalCopies
      availableCopies
      holdQueueLength
      averageRating
      reviewCount
      copies {
        id
        barcode
        status
      }
    }
  }
`);

/**
 * The signed-in reader's loans, holds and reviews, to know what they may do with a book. Bounded lists:
 * a loan policy allows far fewer than 100 loans and 10 live holds; a reader with more than 100 reviews may
 * not find an old one here, and the server then refuses a second review with a message naming it.
 */
const ViewerQuery = graphql(`
  query BookPageViewer {
    me {
      id
      activeLoans: loans(status: ACTIVE, first: 100) {
        edges {
          node {
            id
            dueAt
            book {
              id
            }
          }
        }
      }
      waitingHolds: reservations(status: WAITING, first: 100) {
        edges {
          node {
            id
            position
            book {
              id
            }
          }
        }
      }
      readyHolds: reservations(status: READY, first: 100) {
        edges {
          node {
            id
            pickupBy
            book {
              id
            }
          }
        }
      }
      reviews(first: 100) {
        edges {
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

const STAFF = new Set(['LIBRARIAN', 'ADMIN']);

export function BookPage({ id }: { id: string }) {
  // A different book is a different page: no notice or form state carries over.
  return <Book key={id} id={id} />;
}

function Book({ id }: { id: string }) {
  const { user } = useSession();
  const [result, refetch] = useQuery({ query: BookQuery, variables: { id }, requestPolicy: 'cache-and-network' });
  const [viewer, refetchViewer] = useQuery({ query: ViewerQuery, pause: !user, requestPolicy: 'cache-and-network' });
  const book = result.data?.book;

  useLiveAvailability(book ? [book.id] : [], { copies: true });
  const refresh = () => {
    refetch({ requestPolicy: 'network-only' });
    if (user) refetchViewer({ requestPolicy: 'network-only' });
  };
  useRefetchOnReconnect(refresh);

  const me = viewer.data?.me;
  const standing = useMemo((): ViewerStanding | null => {
    if (!viewer.data) return null;
    if (!me) return EMPTY_STANDING;
    const loan = me.activeLoans.edges.find((edge) => edge.node.book.id === id)?.node ?? null;
    const waiting = me.waitingHolds.edges.find((edge) => edge.node.book.id === id)?.node ?? null;
    const ready = me.readyHolds.edges.find((edge) => edge.node.book.id === id)?.node ?? null;
    return { loan, waiting, ready };
  }, [viewer.data, me, id]);
  const myReview: ReviewView | null = me?.reviews.edges.find((edge) => edge.node.book.id === id)?.node ?? null;

  if (!book) {
    if (result.fetching || (!result.data && !result.error)) return <Loading label="Loading the book…" />;
    if (result.error) {
      return (
        <section>
          <PageHeading title="Book">Book</PageHeading>
          <ErrorMessage error={result.error} />
          <p>
            <Link to="/">Back to the catalogue</Link>
          </p>
        </section>
      );
    }
    return (
      <section>
        <PageHeading title="Book not found">Book not found</PageHeading>
        <p>This book is not in the catalogue.</p>
        <p>
          <Link to="/">Back to the catalogue</Link>
        </p>
      </section>
    );
  }

  const staff = user != null && STAFF.has(user.role);
  // Withdrawn copies are history, of interest to staff only.
  const copies = staff ? book.copies : book.copies.filter((copy) => copy.status !== 'WITHDRAWN');

  return (
    <article className="book-page">
      <PageHeading title={book.title}>{book.title}</PageHeading>
      {book.authors.length > 0 && <p className="book-byline">by {book.authors.join(', ')}</p>}

      <div className="book-layout">
        <div className="book-main">
          <dl className="book-facts">
            <div>
              <dt>Authors</dt>
              <dd>{book.authors.join(', ') || 'Unknown'}</dd>
            </div>
            <div>
              <dt>Genres</dt>
              <dd>{book.genres.join(', ') || 'None listed'}</dd>
            </div>
            <div>
              <dt>Published</dt>
              <dd>{book.publishedYear ?? 'Unknown'}</dd>
            </div>
            <div>
              <dt>Language</dt>
              <dd>{languageName(book.language)}</dd>
            </div>
            <div>
              <dt>ISBN</dt>
              <dd>{book.isbn}</dd>
            </div>
          </dl>
          {book.description && (
            <section aria-labelledby="about-heading">
              <h2 id="about-heading">About this book</h2>
              <p className="book-description">{book.description}</p>
            </section>
          )}
        </div>

        <aside className="book-side card" aria-labelledby="availability-heading">
          <h2 id="availability-heading">Availability</h2>
          <div aria-live="polite">
            <AvailabilityLine book={book} />
          </div>
          <BookActions
            bookId={book.id}
            availableCopies={book.availableCopies}
            standing={user ? (viewer.error ? EMPTY_STANDING : standing) : null}
            onRefused={refresh}
          />
          <ErrorMessage error={viewer.error} />
          {staff && (
            <p>
              <Link to={`/staff/books/${encodeURIComponent(book.id)}`}>Edit book</Link>
            </p>
          )}
        </aside>
      </div>

      <section className="copies" aria-labelledby="copies-heading">
        <h2 id="copies-heading">Copies</h2>
        {copies.length === 0 ? (
          <p className="empty">The library has no copies of this book at the moment.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Barcode</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {copies.map((copy) => (
                <tr key={copy.id}>
                  <td>{copy.barcode}</td>
                  <td>{copyStatusText(copy.status)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <Reviews
        bookId={book.id}
        averageRating={book.averageRating}
        reviewCount={book.reviewCount}
        myReview={myReview}
        viewerReady={!user || Boolean(viewer.data) || Boolean(viewer.error)}
      />
    </article>
  );
}

/** When the reader's loans and holds cannot be read, the buttons still show; the server decides. */
const EMPTY_STANDING: ViewerStanding = { loan: null, waiting: null, ready: null };
