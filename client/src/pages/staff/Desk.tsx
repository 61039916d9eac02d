/**
 * The circulation desk: check copies out to a patron and in again, by barcode. Both barcode fields work
 * with a scanner (it types the code and presses Enter): each scan is taken at once, the field is cleared
 * for the next one and keeps the focus, and the outcome names the copy it was about. A checked-in copy
 * that fills a hold says whose, so it goes on the hold shelf rather than back on the open shelf.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { ErrorMessage, Field, formatCents, formatDate, Loading, Notice, PageHeading } from '../../components/ui';
import { graphql } from '../../gql';
import { useRefetchOnReconnect } from '../../lib/app';
import { Link } from '../../lib/router';
import { PatronFinder, type FoundUser } from './PatronFinder';

const PatronQuery = graphql(`
  query DeskPatron($id: ID!) {
    user(id: $id) {
      id
      name
      email
      balanceCents
      loans(status: ACTIVE, first: 1) {
        totalCount
      }
    }
  }
`);

const CheckOutMutation = graphql(`
  mutation DeskCheckOut($barcode: String!, $userId: ID!) {
    checkOutCopy(barcode: $barcode, userId: $userId) {
      id
      dueAt
      status
      user {
        id
        name
      }
      book {
        id
        title
        availableCopies
        totalCopies
      }
      copy {
        id
        barcode
        status
      }
    }
  }
`);

const CheckInMutation = graphql(`
  mutation DeskCheckIn($barcode: String!) {
    checkInCopy(barcode: $barcode) {
      id
      status
      returnedAt
      fineCents
      user {
        id
        name
      }
      book {
        id
        title
        availableCopies
        totalCopies
      }
      copy {
        id
        barcode
        status
        heldFor {
          id
          status
          pickupBy
          user {
            id
            name
          }
        }
      }
    }
  }
`);

export function Desk() {
  return (
    <section>
      <PageHeading title="Circulation desk">Circulation desk</PageHeading>
      <div className="staff-columns">
        <CheckOut />
        <CheckIn />
      </div>
    </section>
  );
}

/** What the last scan came to: its barcode and either the lines to show or the server's refusal. */
interface Outcome<T> {
  barcode: string;
  data?: T;
  error?: CombinedError | Error;
}

/**
 * A barcode field for a scanner: submit takes the code, clears the field at once (a scan arriving while the
 * previous one is still being answered starts clean) and gives the focus back to the field.
 */
function useScanField() {
  const ref = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState('');
  const take = (): string => {
    const code = value.trim();
    setValue('');
    ref.current?.focus();
    return code;
  };
  return { ref, value, setValue, take };
}

/** The scanner's form: one barcode field (the scan field above) and its submit button. */
function ScanForm(props: {
  scan: ReturnType<typeof useScanField>;
  id: string;
  label: string;
  button: string;
  /** The element announcing what the scan came to. */
  outcomeId: string;
  onSubmit: (event: FormEvent) => void;
}) {
  const { scan, id, label, button, outcomeId, onSubmit } = props;
  return (
    <form onSubmit={onSubmit} noValidate>
      <Field id={id} label={label}>
        <input
          id={id}
          ref={scan.ref}
          autoComplete="off"
          spellCheck={false}
          value={scan.value}
          onChange={(e) => scan.setValue(e.target.value)}
          aria-describedby={outcomeId}
        />
      </Field>
      <button type="submit">{button}</button>
    </form>
  );
}

function CheckOut() {
  const [patron, setPatron] = useState<FoundUser | null>(null);
  const scan = useScanField();
  const [outcome, setOutcome] = useState<Outcome<{ title: string; name: string; dueAt: string }> | null>(null);
  const [, checkOut] = useMutation(CheckOutMutation);
  const [patronResult, refetchPatron] = useQuery({
    query: PatronQuery,
    variables: { id: patron?.id ?? '' },
    pause: !patron,
    requestPolicy: 'cache-and-network',
  });
  useRefetchOnReconnect(() => {
    if (patron) refetchPatron({ requestPolicy: 'network-only' });
  });

  // Once a patron is chosen, the next thing the librarian does is scan: the barcode field takes the focus.
  const focusBarcode = scan.ref;
  useEffect(() => {
    if (patron) focusBarcode.current?.focus();
  }, [patron, focusBarcode]);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const barcode = scan.take();
    if (!barcode) {
      setOutcome({ barcode, error: new Error('Scan or type the barcode on the copy’s label.') });
      return;
    }
    if (!patron) {
      setOutcome({ barcode, error: new Error('Choose the patron first: find them by name or email above.') });
      return;
    }
    const result = await checkOut({ barcode, userId: patron.id });
    const loan = result.data?.checkOutCopy;
    setOutcome(
      loan
        ? { barcode, data: { title: loan.book.title, name: loan.user.name, dueAt: loan.dueAt } }
        : { barcode, error: result.error ?? new Error('The checkout did not go through. Try again.') },
    );
  };

  const user = patronResult.data?.user;
  return (
    <section aria-labelledby="checkout-heading" className="desk-panel">
      <h2 id="checkout-heading">Check out</h2>
      {patron ? (
        <div className="card chosen-patron">
          <p>
            <strong>
              <Link to={`/staff/patrons/${patron.id}`}>{patron.name}</Link>
            </strong>
            {patron.email && <span className="muted"> {patron.email}</span>}
          </p>
          {user ? (
            <p>
              {user.loans.totalCount} {user.loans.totalCount === 1 ? 'loan' : 'loans'} out · Balance: {formatCents(user.balanceCents)}
            </p>
          ) : patronResult.error ? (
            <ErrorMessage error={patronResult.error} />
          ) : (
            <Loading label="Loading the patron’s loans and balance…" />
          )}
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPatron(null);
              setOutcome(null);
            }}
          >
            Change patron
          </button>
        </div>
      ) : (
        <PatronFinder
          label="Find patron"
          inputId="desk-find-patron"
          onSelect={(chosen) => {
            setPatron(chosen);
            setOutcome(null);
          }}
        />
      )}
      <ScanForm
        scan={scan}
        id="desk-checkout-barcode"
        label="Copy barcode"
        button="Check out"
        outcomeId="desk-checkout-outcome"
        onSubmit={onSubmit}
      />
      <div id="desk-checkout-outcome">
        {outcome?.data && (
          <Notice>
            Checked out {outcome.data.title} to {outcome.data.name}. Due {formatDate(outcome.data.dueAt)}.
          </Notice>
        )}
        {outcome?.error && <ErrorMessage error={outcome.error} title={outcome.barcode ? `${outcome.barcode}:` : undefined} />}
      </div>
    </section>
  );
}

interface CheckedIn {
  title: string;
  name: string;
  fineCents: number;
  copyStatus: string;
  holdFor: { name: string; pickupBy: string | null } | null;
}

function CheckIn() {
  const scan = useScanField();
  const [outcome, setOutcome] = useState<Outcome<CheckedIn> | null>(null);
  const [, checkIn] = useMutation(CheckInMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const barcode = scan.take();
    if (!barcode) {
      setOutcome({ barcode, error: new Error('Scan or type the barcode on the copy’s label.') });
      return;
    }
    const result = await checkIn({ barcode });
    const loan = result.data?.checkInCopy;
    if (!loan) {
      setOutcome({ barcode, error: result.error ?? new Error('The check-in did not go through. Try again.') });
      return;
    }
    const hold = loan.copy.heldFor;
    setOutcome({
      barcode,
      data: {
        title: loan.book.title,
        name: loan.user.name,
        fineCents: loan.fineCents,
        copyStatus: loan.copy.status,
        holdFor: hold ? { name: hold.user.name, pickupBy: hold.pickupBy } : null,
      },
      // The return counts even if a later step failed; a partial answer still says what is known.
      error: result.error,
    });
  };

  return (
    <section aria-labelledby="checkin-heading" className="desk-panel">
      <h2 id="checkin-heading">Check in</h2>
      <ScanForm
        scan={scan}
        id="desk-checkin-barcode"
        label="Barcode to check in"
        button="Check in"
        outcomeId="desk-checkin-outcome"
        onSubmit={onSubmit}
      />
      <div id="desk-checkin-outcome">
        {outcome?.data && <CheckedInLines {...outcome.data} />}
        {outcome?.error && <ErrorMessage error={outcome.error} title={outcome.barcode ? `${outcome.barcode}:` : undefined} />}
      </div>
    </section>
  );
}

/** What to do with the copy in hand: the hold shelf (for whom, until when) or the open shelf. */
function CheckedInLines({ title, name, fineCents, copyStatus, holdFor }: CheckedIn) {
  return (
    <>
      <Notice>
        Checked in {title} from {name}.
      </Notice>
      {fineCents > 0 && <p>Overdue fine assessed: {formatCents(fineCents)}.</p>}
      {holdFor ? (
        <p className="shelf-instruction hold-shelf" role="alert">
          Put this copy on the hold shelf for {holdFor.name} (pickup by {formatDate(holdFor.pickupBy)})
        </p>
      ) : copyStatus === 'ON_HOLD_SHELF' ? (
        <p className="shelf-instruction hold-shelf" role="alert">
          Put this copy on the hold shelf
        </p>
      ) : copyStatus === 'ON_LOAN' ? (
        // Books has not recorded the check-in yet (a service did not answer): where it goes is not known.
        <p className="shelf-instruction" role="alert">
          Keep this copy at the desk for now: the library system has not yet recorded where it goes. Look it up again in a few minutes.
        </p>
      ) : (
        <p className="shelf-instruction">Return this copy to the shelf.</p>
      )}
    </>
  );
}
