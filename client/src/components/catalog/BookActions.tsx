/**
 * What the reader can do with a book: borrow it when a copy is on the shelf (or waits for them on the
 * hold shelf), place a hold when none is, or sign in first. Borrowing is optimistic (cache/catalog.ts):
 * the shelf count drops at once and comes back by itself if the server refuses, whose message is shown
 * here as written.
 */
import { useEffect, useRef, useState } from 'react';
import { useMutation, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import { useSession } from '../../lib/app';
import { Link } from '../../lib/router';
import { ErrorMessage, formatDate, formatDateTime, Loading } from '../ui';

const BorrowMutation = graphql(`
  mutation BookPageBorrow($bookId: ID!) {
    borrowBook(bookId: $bookId) {
      id
      dueAt
      user {
        id
      }
      copy {
        id
        status
      }
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
      }
    }
  }
`);

const ReserveMutation = graphql(`
  mutation BookPageReserve($bookId: ID!) {
    reserveBook(bookId: $bookId) {
      id
      status
      position
      user {
        id
      }
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
      }
    }
  }
`);

/** Where the signed-in reader stands with this book (from their loans and holds). */
export interface ViewerStanding {
  /** Their active loan of it. */
  loan: { id: string; dueAt: string } | null;
  /** Their hold that waits in the queue. */
  waiting: { id: string; position: number | null } | null;
  /** Their hold whose copy is on the hold shelf. */
  ready: { id: string; pickupBy: string | null } | null;
}

type Outcome = { kind: 'borrowed'; dueAt: string } | { kind: 'held'; position: number | null };

const MY_LOANS = '/account?tab=loans';

export function BookActions({
  bookId,
  availableCopies,
  standing,
  onRefused,
}: {
  bookId: string;
  availableCopies: number;
  /** Null while it loads (signed in), so no button flashes up that the reader cannot use. */
  standing: ViewerStanding | null;
  /** A refusal often means this page was out of date (borrowed elsewhere, a hold placed meanwhile). */
  onRefused?: () => void;
}) {
  const { user } = useSession();
  const [borrowing, borrow] = useMutation(BorrowMutation);
  const [reserving, reserve] = useMutation(ReserveMutation);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [refusal, setRefusal] = useState<CombinedError | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);

  // The button pressed is gone once it worked: the keyboard goes to what happened instead.
  useEffect(() => {
    if (outcome) noticeRef.current?.focus();
  }, [outcome]);

  if (!user) {
    return (
      <p className="book-actions">
        <Link to={`/signin?next=/books/${encodeURIComponent(bookId)}`}>Sign in to borrow</Link>
      </p>
    );
  }
  if (!standing) return <Loading label="Checking your loans and holds…" />;

  const onBorrow = async () => {
    if (borrowing.fetching) return;
    setRefusal(null);
    const result = await borrow({ bookId });
    if (result.data) setOutcome({ kind: 'borrowed', dueAt: result.data.borrowBook.dueAt });
    else if (result.error) {
      setRefusal(result.error);
      onRefused?.();
    }
  };

  const onReserve = async () => {
    if (reserving.fetching) return;
    setRefusal(null);
    const result = await reserve({ bookId });
    if (result.data) setOutcome({ kind: 'held', position: result.data.reserveBook.position });
    else if (result.error) {
      setRefusal(result.error);
      onRefused?.();
    }
  };

  let body;
  if (outcome?.kind === 'borrowed') {
    body = (
      <p className="notice" role="status" tabIndex={-1} ref={noticeRef}>
        Borrowed. Due back {formatDate(outcome.dueAt)}. <Link to={MY_LOANS}>My loans</Link>
      </p>
    );
  } else if (outcome?.kind === 'held' && !standing.ready) {
    // Once the hold turns READY (live, through the hold notification) the pickup line below replaces this.
    body = (
      <p className="notice" role="status" tabIndex={-1} ref={noticeRef}>
        {outcome.position == null ? 'Hold placed.' : `Hold placed. You are number ${outcome.position} in the queue.`}
      </p>
    );
  } else if (standing.loan) {
    body = (
      <p className="notice">
        You have this book on loan, due back {formatDate(standing.loan.dueAt)}. <Link to={MY_LOANS}>My loans</Link>
      </p>
    );
  } else if (standing.waiting && !standing.ready) {
    body = (
      <p className="notice">
        {standing.waiting.position == null
          ? 'You have a hold on this book.'
          : `You have a hold on this book: you are number ${standing.waiting.position} in the queue.`}
      </p>
    );
  } else if (standing.ready || availableCopies > 0 || borrowing.fetching) {
    // While the borrow is in flight the optimistic count may already read 0: keep the button pressed.
    body = (
      <>
        {standing.ready && (
          <p className="notice">
            A copy waits for you on the hold shelf
            {standing.ready.pickupBy ? ` until ${formatDateTime(standing.ready.pickupBy)}` : ''}.
          </p>
        )}
        <div className="row">
          <button type="button" onClick={() => void onBorrow()} aria-disabled={borrowing.fetching} aria-describedby="book-action-error">
            Borrow
          </button>
          {borrowing.fetching && (
            <span className="muted" role="status">
              Borrowing…
            </span>
          )}
        </div>
      </>
    );
  } else {
    body = (
      <div className="row">
        <button type="button" onClick={() => void onReserve()} aria-disabled={reserving.fetching} aria-describedby="book-action-error">
          Place a hold
        </button>
        {reserving.fetching && (
          <span className="muted" role="status">
            Placing your hold…
          </span>
        )}
      </div>
    );
  }

  return (
    <div className="book-actions">
      {body}
      <div id="book-action-error">
        <ErrorMessage error={refusal} />
      </div>
    </div>
  );
}
