/**
 * The Loans tab: what the patron has out now (due date, overdue, what returning it now would cost), with
 * renew and return; and below, the loans they have returned, a page at a time. A refusal is shown next to
 * the loan it concerns, in the server's words (RENEWAL_LIMIT_REACHED, RENEWAL_BLOCKED_BY_HOLD, …).
 */
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { Empty, ErrorMessage, Loading, Notice, formatCents, formatDate } from '../../components/ui';
import { graphql } from '../../gql';
import type { AccountActiveLoansQuery } from '../../gql/graphql';
import { useRefetchOnReconnect } from '../../lib/app';
import { Link } from '../../lib/router';

const ActiveLoansQuery = graphql(`
  query AccountActiveLoans {
    me {
      id
      loans(status: ACTIVE, first: 100) {
        totalCount
        edges {
          cursor
          node {
            id
            status
            borrowedAt
            dueAt
            renewalCount
            overdue
            fineCents
            book {
              id
              title
              authors
            }
          }
        }
      }
    }
  }
`);

const PastLoansQuery = graphql(`
  query AccountPastLoans($first: Int, $after: String) {
    me {
      id
      loans(status: RETURNED, first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            status
            borrowedAt
            dueAt
            returnedAt
            fineCents
            book {
              id
              title
              authors
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const RenewLoanMutation = graphql(`
  mutation AccountRenewLoan($loanId: ID!) {
    renewLoan(loanId: $loanId) {
      id
      status
      dueAt
      renewalCount
      overdue
      fineCents
    }
  }
`);

const ReturnLoanMutation = graphql(`
  mutation AccountReturnLoan($loanId: ID!) {
    returnLoan(loanId: $loanId) {
      id
      status
      dueAt
      returnedAt
      overdue
      fineCents
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

const PAST_PAGE_SIZE = 10;

type ActiveLoan = NonNullable<AccountActiveLoansQuery['me']>['loans']['edges'][number]['node'];

type LoanStatus = { kind: 'renewed'; dueAt: string } | { kind: 'error'; error: CombinedError } | null;

function bookPath(id: string): string {
  return `/books/${encodeURIComponent(id)}`;
}

function ActiveLoanCard({ loan, onReturned }: { loan: ActiveLoan; onReturned: (title: string) => void }) {
  const [renewing, renew] = useMutation(RenewLoanMutation);
  const [returning, returnLoan] = useMutation(ReturnLoanMutation);
  const [status, setStatus] = useState<LoanStatus>(null);
  const title = loan.book.title;
  const statusId = `loan-${loan.id}-status`;
  const busy = renewing.fetching || returning.fetching;

  const onRenew = async () => {
    setStatus(null);
    const result = await renew({ loanId: loan.id });
    if (result.error) setStatus({ kind: 'error', error: result.error });
    else if (result.data) setStatus({ kind: 'renewed', dueAt: result.data.renewLoan.dueAt });
  };

  const onReturn = async () => {
    setStatus(null);
    const result = await returnLoan({ loanId: loan.id });
    if (result.error) setStatus({ kind: 'error', error: result.error });
    // The cache takes the loan out of this list; the tab says so.
    else onReturned(title);
  };

  return (
    <li className="card loan">
      <h3 className="card-title">
        <Link to={bookPath(loan.book.id)}>{title}</Link>
      </h3>
      {loan.book.authors.length > 0 && <p className="muted">{loan.book.authors.join(', ')}</p>}
      <p className="row">
        <span>Due {formatDate(loan.dueAt)}</span>
        {loan.overdue && <span className="marker overdue">Overdue</span>}
        {loan.renewalCount > 0 && <span className="muted">Renewed {loan.renewalCount === 1 ? 'once' : `${loan.renewalCount} times`}</span>}
      </p>
      <p className={loan.fineCents > 0 ? 'fine-due' : 'muted'}>
        {loan.fineCents > 0 ? `Returning it now would cost ${formatCents(loan.fineCents)}` : 'No fine if returned now'}
      </p>
      <div className="row">
        <button type="button" onClick={() => void onRenew()} disabled={busy} aria-label={`Renew ${title}`} aria-describedby={statusId}>
          {renewing.fetching ? 'Renewing…' : 'Renew'}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => void onReturn()}
          disabled={busy}
          aria-label={`Return ${title}`}
          aria-describedby={statusId}
        >
          {returning.fetching ? 'Returning…' : 'Return'}
        </button>
      </div>
      <div id={statusId}>
        {status?.kind === 'renewed' && <Notice>Renewed. Now due {formatDate(status.dueAt)}.</Notice>}
        {status?.kind === 'error' && <ErrorMessage error={status.error} />}
      </div>
    </li>
  );
}

function ActiveLoans() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: ActiveLoansQuery, requestPolicy: 'cache-and-network' });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const [returned, setReturned] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const onReturned = (title: string) => {
    setReturned(title);
    // The loan's buttons are gone with it: focus goes to the list's heading, the notice is announced.
    heading.current?.focus();
  };

  const loans = data?.me?.loans.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="loans-heading">
      <h2 id="loans-heading" ref={heading} tabIndex={-1}>
        On loan
      </h2>
      {returned && (
        <Notice>
          Returned.<span className="visually-hidden"> {returned} is back with the library.</span>
        </Notice>
      )}
      {!data && fetching && <Loading label="Loading your loans…" />}
      <ErrorMessage error={error} />
      {data && loans.length === 0 && (
        <Empty>
          You have nothing on loan. <Link to="/">Find something to read</Link>.
        </Empty>
      )}
      {loans.length > 0 && (
        <ul className="cards">
          {loans.map((loan) => (
            <ActiveLoanCard key={loan.id} loan={loan} onReturned={onReturned} />
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * One page of returned loans, and the next page once asked for. Each page takes its cursor from the page
 * before it as that page now reads, so when a return puts a loan at the top nothing is skipped.
 */
function PastLoansPage({ after, focusOnLoad }: { after: string | null; focusOnLoad: boolean }) {
  const [{ data, fetching, error }] = useQuery({
    query: PastLoansQuery,
    variables: { first: PAST_PAGE_SIZE, after },
    requestPolicy: 'cache-and-network',
  });
  const [more, setMore] = useState(false);
  const list = useRef<HTMLUListElement>(null);
  const loans = data?.me?.loans.edges.map((edge) => edge.node) ?? [];
  const pageInfo = data?.me?.loans.pageInfo;
  const hasLoans = loans.length > 0;

  useEffect(() => {
    // After "Load more", focus moves to the first loan that arrived.
    if (focusOnLoad && hasLoans) list.current?.querySelector<HTMLElement>('a')?.focus();
  }, [focusOnLoad, hasLoans]);

  if (!data && fetching) return <Loading label="Loading past loans…" />;
  if (!data) return <ErrorMessage error={error} />;
  if (!hasLoans && after === null) return <Empty>No past loans yet.</Empty>;
  return (
    <>
      <ErrorMessage error={error} />
      <ul className="cards past-loans" ref={list}>
        {loans.map((loan) => (
          <li key={loan.id} className="card">
            <Link to={bookPath(loan.book.id)}>{loan.book.title}</Link>
            <p className="muted">
              Borrowed {formatDate(loan.borrowedAt)} · Returned {formatDate(loan.returnedAt)}
            </p>
            {loan.fineCents > 0 && <p>Late fine: {formatCents(loan.fineCents)}</p>}
          </li>
        ))}
      </ul>
      {pageInfo?.hasNextPage &&
        pageInfo.endCursor &&
        (more ? (
          <PastLoansPage after={pageInfo.endCursor} focusOnLoad />
        ) : (
          <p>
            <button type="button" className="secondary" onClick={() => setMore(true)}>
              Load more past loans
            </button>
          </p>
        ))}
    </>
  );
}

export function Loans() {
  return (
    <>
      <ActiveLoans />
      <section aria-labelledby="past-loans-heading">
        <h2 id="past-loans-heading">Past loans</h2>
        <PastLoansPage after={null} focusOnLoad={false} />
      </section>
    </>
  );
}
