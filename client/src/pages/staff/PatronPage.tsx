/**
 * One patron for library staff: who they are, their active loans (overdue ones marked), their holds,
 * and their fines — waive one (with a reason for the audit trail), assess a new one, or record what they
 * pay at the desk. Every refusal is shown as the server wrote it, next to the control that caused it.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorMessage, Field, formatCents, formatDate, Loading, Notice, PageHeading } from '../../components/ui';
import { graphql } from '../../gql';
import type { StaffPatronPageQuery } from '../../gql/graphql';
import { useRefetchOnReconnect } from '../../lib/app';
import { Link } from '../../lib/router';
import { newIdempotencyKey, parseMoney } from './forms';

const PatronQuery = graphql(`
  query StaffPatronPage($id: ID!) {
    user(id: $id) {
      id
      name
      email
      role
      createdAt
      balanceCents
      activeLoans: loans(status: ACTIVE, first: 100) {
        totalCount
        edges {
          node {
            id
            borrowedAt
            dueAt
            overdue
            fineCents
            renewalCount
            book {
              id
              title
            }
            copy {
              id
              barcode
            }
          }
        }
      }
      recentLoans: loans(first: 50) {
        edges {
          node {
            id
            status
            borrowedAt
            book {
              id
              title
            }
            copy {
              id
              barcode
            }
          }
        }
      }
      readyHolds: reservations(status: READY, first: 50) {
        totalCount
        edges {
          node {
            id
            status
            readyAt
            pickupBy
            book {
              id
              title
            }
          }
        }
      }
      waitingHolds: reservations(status: WAITING, first: 50) {
        totalCount
        edges {
          node {
            id
            status
            position
            createdAt
            book {
              id
              title
            }
          }
        }
      }
      fines {
        ...FineDetails
        waiver {
          id
          waivedBy {
            id
            name
          }
        }
      }
    }
  }
`);

const WaiveFineMutation = graphql(`
  mutation StaffWaiveFine($fineId: ID!, $reason: String!) {
    waiveFine(fineId: $fineId, reason: $reason) {
      id
      status
      amountCents
      user {
        id
      }
      waiver {
        id
        reason
        waivedAt
      }
    }
  }
`);

const AssessFineMutation = graphql(`
  mutation StaffAssessFine($input: AssessFineInput!) {
    assessFine(input: $input) {
      id
      amountCents
      reason
      status
      user {
        id
      }
    }
  }
`);

const DeskPaymentMutation = graphql(`
  mutation StaffRecordDeskPayment($input: RecordDeskPaymentInput!) {
    recordDeskPayment(input: $input) {
      id
      amountCents
      currency
      method
      reference
      user {
        id
      }
      fines {
        id
        status
      }
    }
  }
`);

type Patron = NonNullable<StaffPatronPageQuery['user']>;
type Fine = Patron['fines'][number];

const REASON_WORDS: Record<string, string> = { OVERDUE: 'Overdue', LOST: 'Lost', DAMAGED: 'Damaged', OTHER: 'Other' };
const FINE_STATUS_WORDS: Record<string, string> = { OPEN: 'Owed', PAID: 'Paid', WAIVED: 'Waived' };

/** What a fine is for, in a few words: "Overdue, 3 days — Dune" or the librarian's note. */
function fineSubject(fine: Fine): string {
  const parts = [REASON_WORDS[fine.reason] ?? fine.reason];
  if (fine.daysOverdue) parts[0] += `, ${fine.daysOverdue} ${fine.daysOverdue === 1 ? 'day' : 'days'}`;
  if (fine.loan) parts.push(fine.loan.book.title);
  if (fine.note) parts.push(fine.note);
  return parts.join(' — ');
}

export function PatronPage({ id }: { id: string }) {
  const [result, refetch] = useQuery({ query: PatronQuery, variables: { id }, requestPolicy: 'cache-and-network' });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const patron = result.data?.user;

  if (!patron) {
    if (!result.error && (result.fetching || !result.data)) return <Loading />;
    return (
      <section>
        <PageHeading title="Patron not found">Patron not found</PageHeading>
        <ErrorMessage error={result.error} />
        {!result.error && <Empty>No account has this id.</Empty>}
        <p>
          <Link to="/staff/patrons">Find a patron</Link>
        </p>
      </section>
    );
  }
  return (
    <section>
      <PageHeading title={patron.name}>{patron.name}</PageHeading>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{patron.email}</dd>
        <dt>Role</dt>
        <dd>{patron.role}</dd>
        <dt>Since</dt>
        <dd>{formatDate(patron.createdAt)}</dd>
      </dl>
      <ErrorMessage error={result.error} />
      <Loans patron={patron} />
      <Holds patron={patron} />
      <Fines patron={patron} />
      <div className="staff-columns">
        <AssessFine patron={patron} />
        <DeskPayment patron={patron} />
      </div>
    </section>
  );
}

function Loans({ patron }: { patron: Patron }) {
  const loans = patron.activeLoans.edges.map((e) => e.node);
  return (
    <section>
      <h2 id="patron-loans-heading">Loans</h2>
      {loans.length === 0 ? (
        <Empty>No loans out.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Book</th>
              <th scope="col">Barcode</th>
              <th scope="col">Borrowed</th>
              <th scope="col">Due</th>
            </tr>
          </thead>
          <tbody>
            {loans.map((loan) => (
              <tr key={loan.id}>
                <td>
                  <Link to={`/staff/books/${loan.book.id}`}>{loan.book.title}</Link>
                </td>
                <td>
                  <code>{loan.copy.barcode}</code>
                </td>
                <td>{formatDate(loan.borrowedAt)}</td>
                <td>
                  {formatDate(loan.dueAt)}{' '}
                  {loan.overdue && (
                    <span className="overdue-tag">Overdue{loan.fineCents > 0 ? ` (fine so far ${formatCents(loan.fineCents)})` : ''}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Holds({ patron }: { patron: Patron }) {
  const ready = patron.readyHolds.edges.map((e) => e.node);
  const waiting = patron.waitingHolds.edges.map((e) => e.node);
  return (
    <section>
      <h2 id="patron-holds-heading">Holds</h2>
      {ready.length + waiting.length === 0 ? (
        <Empty>No holds.</Empty>
      ) : (
        <ul>
          {ready.map((hold) => (
            <li key={hold.id}>
              <Link to={`/staff/books/${hold.book.id}`}>{hold.book.title}</Link> — <strong>ready</strong> on the hold shelf, pickup by{' '}
              {formatDate(hold.pickupBy)}
            </li>
          ))}
          {waiting.map((hold) => (
            <li key={hold.id}>
              <Link to={`/staff/books/${hold.book.id}`}>{hold.book.title}</Link> — waiting
              {hold.position != null ? `, number ${hold.position} in line` : ''} (since {formatDate(hold.createdAt)})
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Fines({ patron }: { patron: Patron }) {
  const [waiving, setWaiving] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [waived, setWaived] = useState<string | null>(null);
  const [result, waiveFine] = useMutation(WaiveFineMutation);

  const onConfirm = async (event: FormEvent, fine: Fine) => {
    event.preventDefault();
    const { data } = await waiveFine({ fineId: fine.id, reason });
    if (data) {
      setWaived(`Waived the fine of ${formatCents(fine.amountCents)} (${fineSubject(fine)}).`);
      setWaiving(null);
      setReason('');
    }
  };

  return (
    <section>
      <h2 id="patron-fines-heading">Fines</h2>
      <p className="balance">Balance: {formatCents(patron.balanceCents)}</p>
      {waived && <Notice>{waived}</Notice>}
      {patron.fines.length === 0 ? (
        <Empty>No fines.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Assessed</th>
              <th scope="col">For</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {patron.fines.map((fine) => (
              <tr key={fine.id}>
                <td>{formatDate(fine.createdAt)}</td>
                <td id={`fine-${fine.id}`}>{fineSubject(fine)}</td>
                <td>{formatCents(fine.amountCents)}</td>
                <td>
                  {FINE_STATUS_WORDS[fine.status] ?? fine.status}
                  {fine.waiver && (
                    <small className="muted">
                      {' '}
                      by {fine.waiver.waivedBy.name} on {formatDate(fine.waiver.waivedAt)}: “{fine.waiver.reason}”
                    </small>
                  )}
                </td>
                <td>
                  {fine.status === 'OPEN' &&
                    (waiving === fine.id ? (
                      <form onSubmit={(e) => void onConfirm(e, fine)} noValidate className="inline-form">
                        <Field id={`waive-reason-${fine.id}`} label="Reason for waiving">
                          <input
                            id={`waive-reason-${fine.id}`}
                            value={reason}
                            onChange={(e) => setReason(e.target.value)}
                            autoFocus
                            aria-describedby={`waive-error-${fine.id}`}
                          />
                        </Field>
                        <div className="row">
                          <button type="submit" disabled={result.fetching}>
                            {result.fetching ? 'Waiving…' : 'Confirm waive'}
                          </button>
                          <button type="button" className="secondary" onClick={() => setWaiving(null)}>
                            Cancel
                          </button>
                        </div>
                        <div id={`waive-error-${fine.id}`}>
                          <ErrorMessage error={result.error} />
                        </div>
                      </form>
                    ) : (
                      <button
                        type="button"
                        className="secondary"
                        aria-describedby={`fine-${fine.id}`}
                        onClick={() => {
                          setWaiving(fine.id);
                          setReason('');
                          setWaived(null);
                        }}
                      >
                        Waive
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type FineReasonChoice = 'LOST' | 'DAMAGED' | 'OTHER';

function AssessFine({ patron }: { patron: Patron }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState<FineReasonChoice>('LOST');
  const [loanId, setLoanId] = useState('');
  const [note, setNote] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const [assessed, setAssessed] = useState<string | null>(null);
  const [result, assessFine] = useMutation(AssessFineMutation);
  const loans = patron.recentLoans.edges.map((e) => e.node);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setAssessed(null);
    const cents = parseMoney(amount, 'Amount');
    if (!cents.ok) return setLocalError(cents.error);
    if (reason === 'OTHER' && note.trim() === '')
      return setLocalError('Write a note saying what the fine is for (required when the reason is Other).');
    setLocalError(null);
    const { data } = await assessFine({
      input: { userId: patron.id, amountCents: cents.value, reason, loanId: loanId || null, note: note.trim() || null },
    });
    if (data) {
      setAssessed(`Assessed a fine of ${formatCents(data.assessFine.amountCents)} (${REASON_WORDS[data.assessFine.reason]}).`);
      setAmount('');
      setNote('');
      setLoanId('');
    }
  };

  const error = localError ? new Error(localError) : result.error;
  return (
    <section>
      <h2 id="assess-heading">Assess a fine</h2>
      <form onSubmit={onSubmit} noValidate>
        <Field id="assess-amount" label="Amount" hint="In the library’s currency, e.g. 12.50.">
          <input
            id="assess-amount"
            inputMode="decimal"
            autoComplete="off"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-describedby="assess-amount-hint assess-error"
          />
        </Field>
        <Field id="assess-reason" label="Reason">
          <select id="assess-reason" value={reason} onChange={(e) => setReason(e.target.value as FineReasonChoice)}>
            <option value="LOST">Lost</option>
            <option value="DAMAGED">Damaged</option>
            <option value="OTHER">Other</option>
          </select>
        </Field>
        <Field id="assess-loan" label="Loan" hint="Optional: the loan the fine is about.">
          <select id="assess-loan" value={loanId} onChange={(e) => setLoanId(e.target.value)} aria-describedby="assess-loan-hint">
            <option value="">No loan</option>
            {loans.map((loan) => (
              <option key={loan.id} value={loan.id}>
                {loan.book.title} — {loan.copy.barcode} ({loan.status === 'ACTIVE' ? 'out' : 'returned'}, borrowed{' '}
                {formatDate(loan.borrowedAt)})
              </option>
            ))}
          </select>
        </Field>
        <Field id="assess-note" label="Note" hint="What the fine is for; required when the reason is Other.">
          <textarea
            id="assess-note"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            required={reason === 'OTHER'}
            aria-describedby="assess-note-hint"
          />
        </Field>
        <div id="assess-error">
          <ErrorMessage error={error} />
        </div>
        {assessed && <Notice>{assessed}</Notice>}
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Assessing…' : 'Assess fine'}
        </button>
      </form>
    </section>
  );
}

function DeskPayment({ patron }: { patron: Patron }) {
  const open = patron.fines.filter((f) => f.status === 'OPEN');
  // Fines are ticked unless the librarian unticks them, so a fine assessed meanwhile is included too.
  const [unticked, setUnticked] = useState<Set<string>>(() => new Set());
  const [method, setMethod] = useState<'CASH' | 'CARD'>('CASH');
  // One key per payment the librarian means to make: kept for a retry, new when what is paid changes.
  const [key, setKey] = useState(newIdempotencyKey);
  const [paid, setPaid] = useState<string | null>(null);
  const [result, recordPayment] = useMutation(DeskPaymentMutation);
  const chosen = open.filter((f) => !unticked.has(f.id));
  const total = chosen.reduce((sum, f) => sum + f.amountCents, 0);

  const toggle = (id: string) => {
    setUnticked((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
    setKey(newIdempotencyKey());
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setPaid(null);
    const { data } = await recordPayment({
      input: { userId: patron.id, fineIds: chosen.map((f) => f.id), idempotencyKey: key, method },
    });
    if (data) {
      const payment = data.recordDeskPayment;
      setPaid(
        `Recorded a ${payment.method === 'CASH' ? 'cash' : 'card'} payment of ${formatCents(payment.amountCents, payment.currency)} for ${payment.fines.length} ${payment.fines.length === 1 ? 'fine' : 'fines'}. Receipt ${payment.reference}.`,
      );
      setKey(newIdempotencyKey());
      setUnticked(new Set());
    }
  };

  return (
    <section>
      <h2 id="payment-heading">Record a desk payment</h2>
      {paid && <Notice>{paid}</Notice>}
      {open.length === 0 ? (
        <Empty>Nothing is owed.</Empty>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <fieldset className="pay-fines">
            <legend>Fines to pay</legend>
            {open.map((fine) => (
              <div key={fine.id} className="check">
                <input id={`pay-${fine.id}`} type="checkbox" checked={!unticked.has(fine.id)} onChange={() => toggle(fine.id)} />
                <label htmlFor={`pay-${fine.id}`}>
                  {formatCents(fine.amountCents)} — {fineSubject(fine)}
                </label>
              </div>
            ))}
          </fieldset>
          <Field id="payment-method" label="Payment method">
            <select
              id="payment-method"
              value={method}
              onChange={(e) => {
                setMethod(e.target.value as 'CASH' | 'CARD');
                setKey(newIdempotencyKey());
              }}
            >
              <option value="CASH">Cash</option>
              <option value="CARD">Card</option>
            </select>
          </Field>
          <p>Total: {formatCents(total)}</p>
          <ErrorMessage error={result.error} />
          <button type="submit" disabled={result.fetching}>
            {result.fetching ? 'Recording…' : 'Record payment'}
          </button>
        </form>
      )}
    </section>
  );
}
