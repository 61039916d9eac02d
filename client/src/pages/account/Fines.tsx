/**
 * The Fines tab: the balance, the open fines to choose and pay, the fines already settled (paid or waived)
 * and the payments made. Paying is idempotent on the server: the key sent with a payment is kept for that
 * attempt, so clicking again after a lost answer repeats the same payment instead of charging twice; a new
 * key is made once a payment went through or the chosen fines change.
 */
import { useRef, useState } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { Empty, ErrorMessage, Loading, Notice, formatCents, formatDate } from '../../components/ui';
import { graphql } from '../../gql';
import type { AccountFinesQuery, FineReason } from '../../gql/graphql';
import { useRefetchOnReconnect } from '../../lib/app';
import { Link } from '../../lib/router';

const FinesQuery = graphql(`
  query AccountFines {
    me {
      id
      balanceCents
      fines {
        ...FineDetails
      }
      payments {
        id
        amountCents
        currency
        createdAt
        method
        provider
        reference
        fines {
          id
        }
      }
    }
  }
`);

const PayFinesMutation = graphql(`
  mutation AccountPayFines($input: PayFinesInput!) {
    payFines(input: $input) {
      id
      amountCents
      currency
      createdAt
      method
      provider
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

type Fine = NonNullable<AccountFinesQuery['me']>['fines'][number];

/** One payment the patron means to make: its idempotency key and the fines it was made for. */
export interface PaymentAttempt {
  key: string;
  /** The chosen fine ids, sorted and joined: the same fines in any order are the same payment. */
  fines: string;
}

/**
 * The attempt to send for these fines: the previous one while the fines are the same (a retry), else a
 * new one with a fresh key. Callers drop the attempt after a payment succeeds or the choice changes.
 */
export function paymentAttemptFor(previous: PaymentAttempt | null, fineIds: readonly string[], newKey: () => string): PaymentAttempt {
  const fines = [...fineIds].sort().join(',');
  return previous && previous.fines === fines ? previous : { key: newKey(), fines };
}

const REASONS: Record<FineReason, string> = {
  OVERDUE: 'Overdue',
  LOST: 'Lost item',
  DAMAGED: 'Damaged item',
  OTHER: 'Other',
};

function describeFine(fine: Fine): string {
  const parts = [REASONS[fine.reason] ?? fine.reason];
  if (fine.daysOverdue != null) parts[0] += ` (${fine.daysOverdue} ${fine.daysOverdue === 1 ? 'day' : 'days'} late)`;
  if (fine.loan) parts.push(fine.loan.book.title);
  if (fine.note) parts.push(fine.note);
  return parts.join(' · ');
}

function FineDetails({ fine }: { fine: Fine }) {
  return (
    <>
      <span className="fine-amount">{formatCents(fine.amountCents)}</span> <span>{describeFine(fine)}</span>{' '}
      <span className="muted">assessed {formatDate(fine.createdAt)}</span>
    </>
  );
}

export function Fines() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: FinesQuery, requestPolicy: 'cache-and-network' });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const [payment, pay] = useMutation(PayFinesMutation);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set());
  const [payError, setPayError] = useState<CombinedError | null>(null);
  const [paid, setPaid] = useState<{ amountCents: number; currency: string } | null>(null);
  const attempt = useRef<PaymentAttempt | null>(null);

  const me = data?.me;
  const fines = me?.fines ?? [];
  const open = fines.filter((fine) => fine.status === 'OPEN');
  const settled = fines.filter((fine) => fine.status !== 'OPEN');
  // A fine paid or waived meanwhile (at the desk, in another tab) drops out of the choice.
  const selected = open.filter((fine) => chosen.has(fine.id));
  const selectedCents = selected.reduce((sum, fine) => sum + fine.amountCents, 0);

  const change = (next: ReadonlySet<string>) => {
    setChosen(next);
    // Other fines are another payment: it gets its own key.
    attempt.current = null;
    setPaid(null);
    setPayError(null);
  };

  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    change(next);
  };

  const onPay = async () => {
    if (selected.length === 0 || payment.fetching) return;
    const fineIds = selected.map((fine) => fine.id);
    const current = paymentAttemptFor(attempt.current, fineIds, () => crypto.randomUUID());
    attempt.current = current;
    setPayError(null);
    setPaid(null);
    const result = await pay({ input: { fineIds, idempotencyKey: current.key } });
    if (result.error || !result.data) {
      // Kept: if the payment went through and only the answer was lost, the retry returns it unchanged.
      setPayError(result.error ?? null);
      return;
    }
    attempt.current = null;
    setChosen(new Set());
    setPaid({ amountCents: result.data.payFines.amountCents, currency: result.data.payFines.currency });
  };

  if (!data && fetching) return <Loading label="Loading your fines…" />;
  if (!me) return <ErrorMessage error={error ?? new Error('Your fines cannot be shown: you are not signed in.')} />;

  return (
    <>
      <section aria-labelledby="fines-heading">
        <h2 id="fines-heading">Fines</h2>
        <p className="acct-balance">
          <strong>Balance: {formatCents(me.balanceCents)}</strong>
        </p>
        <ErrorMessage error={error} />
        {paid && <Notice>Payment received: {formatCents(paid.amountCents, paid.currency)}. Thank you.</Notice>}
        {open.length === 0 ? (
          <Empty>You owe nothing.</Empty>
        ) : (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void onPay();
            }}
          >
            <fieldset className="fines-choice">
              <legend>Open fines</legend>
              <ul className="cards">
                {open.map((fine) => (
                  <li key={fine.id} className="card fine">
                    <input
                      type="checkbox"
                      id={`fine-${fine.id}`}
                      checked={chosen.has(fine.id)}
                      onChange={(event) => toggle(fine.id, event.target.checked)}
                    />
                    <label htmlFor={`fine-${fine.id}`}>
                      <FineDetails fine={fine} />
                    </label>
                    {fine.loan && (
                      <Link to={`/books/${encodeURIComponent(fine.loan.book.id)}`} className="fine-book">
                        About {fine.loan.book.title}
                      </Link>
                    )}
                  </li>
                ))}
              </ul>
            </fieldset>
            <div className="row">
              <button
                type="button"
                className="secondary"
                onClick={() => change(new Set(selected.length === open.length ? [] : open.map((fine) => fine.id)))}
              >
                {selected.length === open.length ? 'Clear selection' : 'Select all fines'}
              </button>
              <span aria-live="polite">
                {selected.length === 0 ? 'No fines chosen.' : `Chosen: ${selected.length} for ${formatCents(selectedCents)}.`}
              </span>
            </div>
            <p>
              <button type="submit" disabled={selected.length === 0 || payment.fetching}>
                {payment.fetching ? 'Paying…' : 'Pay selected'}
              </button>
            </p>
            <ErrorMessage error={payError} />
          </form>
        )}
      </section>
      <section aria-labelledby="settled-fines-heading">
        <h2 id="settled-fines-heading">Paid and waived fines</h2>
        {settled.length === 0 ? (
          <Empty>None yet.</Empty>
        ) : (
          <ul className="cards">
            {settled.map((fine) => (
              <li key={fine.id} className="card">
                <FineDetails fine={fine} />
                <p className="muted">
                  {fine.status === 'PAID'
                    ? 'Paid'
                    : `Waived${fine.waiver ? ` on ${formatDate(fine.waiver.waivedAt)}: ${fine.waiver.reason}` : ''}`}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="payments-heading">
        <h2 id="payments-heading">Payments</h2>
        {me.payments.length === 0 ? (
          <Empty>No payments yet.</Empty>
        ) : (
          <ul className="cards">
            {me.payments.map((p) => (
              <li key={p.id} className="card">
                <strong>{formatCents(p.amountCents, p.currency)}</strong> on {formatDate(p.createdAt)},{' '}
                {p.method === 'CASH' ? 'cash' : 'card'} {p.provider === 'desk' ? 'at the desk' : `(${p.provider})`}, for {p.fines.length}{' '}
                {p.fines.length === 1 ? 'fine' : 'fines'}
                <span className="muted"> · Reference {p.reference}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
