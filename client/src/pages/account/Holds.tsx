/**
 * The Holds tab: holds ready on the hold shelf (with the pickup deadline) and holds still in a queue (with
 * the place in it), each with "Cancel hold". Positions move as others in the queue borrow, cancel or let a
 * hold lapse, so the list is fetched again when a hold notification arrives (the cache update invalidates
 * it), when the availability of one of these books changes, and after the socket reconnects.
 */
import { useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { Empty, ErrorMessage, Loading, Notice, formatDate, formatDateTime } from '../../components/ui';
import { graphql } from '../../gql';
import type { AccountHoldsQuery } from '../../gql/graphql';
import { useRefetchOnReconnect } from '../../lib/app';
import { Link } from '../../lib/router';

graphql(`
  fragment AccountHoldFields on Reservation {
    id
    status
    position
    createdAt
    readyAt
    pickupBy
    book {
      id
      title
      authors
    }
  }
`);

const HoldsQuery = graphql(`
  query AccountHolds {
    me {
      id
      ready: reservations(status: READY, first: 50) {
        totalCount
        edges {
          cursor
          node {
            ...AccountHoldFields
          }
        }
      }
      waiting: reservations(status: WAITING, first: 50) {
        totalCount
        edges {
          cursor
          node {
            ...AccountHoldFields
          }
        }
      }
    }
  }
`);

const HoldsAvailabilitySubscription = graphql(`
  subscription AccountHoldsAvailability($bookIds: [ID!]!) {
    bookAvailabilityChanged(bookIds: $bookIds) {
      bookId
      availableCopies
      totalCopies
    }
  }
`);

const CancelHoldMutation = graphql(`
  mutation AccountCancelHold($id: ID!) {
    cancelReservation(id: $id) {
      id
      status
      position
      pickupBy
      user {
        id
      }
      # The book's numbers changed too: selecting them lets every screen showing it update without a refetch.
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
      }
    }
  }
`);

/** Several availability events often come together (a return, then the hold shelf): one refetch for them. */
const REFETCH_DELAY_MS = 500;

type Hold = NonNullable<AccountHoldsQuery['me']>['waiting']['edges'][number]['node'];

function HoldCard({ hold, onCancelled }: { hold: Hold; onCancelled: (title: string) => void }) {
  const [cancelling, cancel] = useMutation(CancelHoldMutation);
  const [error, setError] = useState<CombinedError | null>(null);
  const title = hold.book.title;
  const statusId = `hold-${hold.id}-status`;

  const onCancel = async () => {
    setError(null);
    const result = await cancel({ id: hold.id });
    if (result.error) setError(result.error);
    else onCancelled(title);
  };

  return (
    <li className={hold.status === 'READY' ? 'card hold ready' : 'card hold'}>
      <h4 className="card-title">
        <Link to={`/books/${encodeURIComponent(hold.book.id)}`}>{title}</Link>
      </h4>
      {hold.book.authors.length > 0 && <p className="muted">{hold.book.authors.join(', ')}</p>}
      {hold.status === 'READY' ? (
        <p>
          <span className="marker ready">Ready</span> Ready for pickup until {formatDateTime(hold.pickupBy)}
        </p>
      ) : (
        <p>{hold.position != null ? `Number ${hold.position} in the queue` : 'In the queue'}</p>
      )}
      <p className="muted">Placed {formatDate(hold.createdAt)}</p>
      <button
        type="button"
        className="secondary"
        onClick={() => void onCancel()}
        disabled={cancelling.fetching}
        aria-label={`Cancel hold on ${title}`}
        aria-describedby={statusId}
      >
        {cancelling.fetching ? 'Cancelling…' : 'Cancel hold'}
      </button>
      <div id={statusId}>
        <ErrorMessage error={error} />
      </div>
    </li>
  );
}

export function Holds() {
  const client = useClient();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: HoldsQuery, requestPolicy: 'cache-and-network' });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const [cancelled, setCancelled] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const ready = data?.me?.ready.edges.map((edge) => edge.node) ?? [];
  const waiting = data?.me?.waiting.edges.map((edge) => edge.node) ?? [];
  const bookIds = [...new Set(waiting.map((hold) => hold.book.id))].sort().join(',');

  // Live positions: a copy coming back (or going to someone's hold shelf) moves the queues these holds are in.
  const refetch = useRef(reexecute);
  refetch.current = reexecute;
  useEffect(() => {
    if (!bookIds) return;
    let timer: number | undefined;
    const subscription = client.subscription(HoldsAvailabilitySubscription, { bookIds: bookIds.split(',') }).subscribe((result) => {
      if (!result.data) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => refetch.current({ requestPolicy: 'network-only' }), REFETCH_DELAY_MS);
    });
    return () => {
      window.clearTimeout(timer);
      subscription.unsubscribe();
    };
  }, [client, bookIds]);

  const onCancelled = (title: string) => {
    setCancelled(title);
    heading.current?.focus();
  };

  return (
    <section aria-labelledby="holds-heading">
      <h2 id="holds-heading" ref={heading} tabIndex={-1}>
        Holds
      </h2>
      {cancelled && <Notice>Hold on {cancelled} cancelled.</Notice>}
      {!data && fetching && <Loading label="Loading your holds…" />}
      <ErrorMessage error={error} />
      {data && ready.length === 0 && waiting.length === 0 && (
        <Empty>
          You have no holds. When every copy of a book is out, you can place a hold on its page in the <Link to="/">catalogue</Link>.
        </Empty>
      )}
      {ready.length > 0 && (
        <>
          <h3>Ready for pickup</h3>
          <ul className="cards">
            {ready.map((hold) => (
              <HoldCard key={hold.id} hold={hold} onCancelled={onCancelled} />
            ))}
          </ul>
        </>
      )}
      {waiting.length > 0 && (
        <>
          <h3>Waiting</h3>
          <ul className="cards">
            {waiting.map((hold) => (
              <HoldCard key={hold.id} hold={hold} onCancelled={onCancelled} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
