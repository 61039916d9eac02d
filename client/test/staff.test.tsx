/**
 * @jest-environment jsdom
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { DocumentNode } from 'graphql';
import { Provider, type Client, type GraphQLRequest } from 'urql';
import { fromValue, never } from 'wonka';
import { policyChanges, policyToForm } from '../src/pages/staff/Admin';
import { Desk } from '../src/pages/staff/Desk';
import { bookFormFromBook, bookInputFromForm, centsToMajor, EMPTY_BOOK_FORM, parseMoney, splitList } from '../src/pages/staff/forms';

describe('money typed in major units', () => {
  it('reads amounts as integer cents without floating-point drift', () => {
    const cents = (text: string) => {
      const parsed = parseMoney(text);
      return parsed.ok ? parsed.value : parsed.error;
    };
    expect(cents('2')).toBe(200);
    expect(cents('2.5')).toBe(250);
    expect(cents('2,50')).toBe(250);
    expect(cents(' 0.29 ')).toBe(29);
    expect(cents('1.01')).toBe(101);
    expect(cents('€12.50')).toBe(1250);
    expect(cents('$ 3')).toBe(300);
    expect(cents('EUR 4.10')).toBe(410);
    expect(cents('0')).toBe(0);
  });

  it('refuses what is not an amount, saying what to type', () => {
    for (const text of ['-1', '1.234', '1,234.50', 'abc', '1.', '.5', '2 50']) {
      const parsed = parseMoney(text, 'Amount');
      expect([text, parsed.ok]).toEqual([text, false]);
      if (!parsed.ok) expect(parsed.error).toMatch(/^Amount must be an amount such as 2\.50/);
    }
    expect(parseMoney('  ', 'Amount')).toEqual({ ok: false, error: 'Amount is required.' });
  });

  it('shows cents back in major units', () => {
    expect([250, 5, 0, 100000, 1999].map(centsToMajor)).toEqual(['2.50', '0.05', '0.00', '1000.00', '19.99']);
    for (const cents of [0, 1, 29, 250, 123456]) {
      const back = parseMoney(centsToMajor(cents));
      expect(back.ok && back.value).toBe(cents);
    }
  });
});

describe('the book form', () => {
  it('maps comma-separated lists, the year, the description and copies to AddBookInput', () => {
    const parsed = bookInputFromForm({
      ...EMPTY_BOOK_FORM,
      isbn: ' 978-0-00-000000-2 ',
      title: ' Dune ',
      authors: 'Frank Herbert, , Brian Herbert ,',
      genres: 'Science fiction,Classics',
      publishedYear: '1965',
      description: '   ',
      copies: '3',
    });
    expect(parsed).toEqual({
      ok: true,
      value: {
        isbn: '978-0-00-000000-2',
        title: 'Dune',
        authors: ['Frank Herbert', 'Brian Herbert'],
        genres: ['Science fiction', 'Classics'],
        publishedYear: 1965,
        language: 'en',
        description: null,
        copies: 3,
      },
    });
  });

  it('leaves an empty year out (null) and defaults to one copy; refuses a year that is not a number', () => {
    const parsed = bookInputFromForm({ ...EMPTY_BOOK_FORM, isbn: '0306406152', title: 'T', authors: 'A', copies: '' });
    expect(parsed.ok && [parsed.value.publishedYear, parsed.value.copies, parsed.value.language]).toEqual([null, 1, 'en']);
    expect(bookInputFromForm({ ...EMPTY_BOOK_FORM, publishedYear: '19x5' })).toEqual({
      ok: false,
      error: 'Published year must be a whole number.',
    });
    expect(bookInputFromForm({ ...EMPTY_BOOK_FORM, copies: 'two' })).toEqual({ ok: false, error: 'Copies must be a whole number.' });
  });

  it('round-trips a loaded book through the edit form', () => {
    const book = {
      isbn: '9780000000002',
      title: 'T',
      authors: ['A, Jr', 'B'],
      genres: [],
      publishedYear: null,
      language: 'fr',
      description: null,
    };
    const form = bookFormFromBook(book);
    expect(form).toMatchObject({ authors: 'A, Jr, B', genres: '', publishedYear: '', description: '' });
    expect(splitList(form.genres)).toEqual([]);
  });
});

describe('loan policy forms', () => {
  const policy = {
    loanDays: 14,
    maxRenewals: 2,
    maxActiveLoans: 5,
    finePerOverdueDayCents: 25,
    maxFinePerLoanCents: 1000,
    holdPickupDays: 3,
    maxBalanceCents: 500,
  };

  it('shows money in major units and sends only what changed, in cents', () => {
    const form = policyToForm(policy);
    expect(form).toMatchObject({ loanDays: '14', finePerOverdueDayCents: '0.25', maxFinePerLoanCents: '10.00', maxBalanceCents: '5.00' });
    expect(policyChanges(form, policy)).toEqual({ ok: true, input: {} });
    expect(policyChanges({ ...form, loanDays: '21', finePerOverdueDayCents: '0.3', maxBalanceCents: '5' }, policy)).toEqual({
      ok: true,
      input: { loanDays: 21, finePerOverdueDayCents: 30 },
    });
  });

  it('refuses text it cannot send, naming the field; ranges are left to the server', () => {
    const form = policyToForm(policy);
    expect(policyChanges({ ...form, maxRenewals: 'many' }, policy)).toEqual({
      ok: false,
      error: 'Maximum renewals must be a whole number.',
    });
    expect(policyChanges({ ...form, maxFinePerLoanCents: '1.005' }, policy)).toMatchObject({ ok: false });
    expect(policyChanges({ ...form, loanDays: '0' }, policy)).toEqual({ ok: true, input: { loanDays: 0 } });
  });
});

/** A client whose mutations answer from `answers` by operation name; queries never answer. */
function fakeClient(answers: Record<string, (variables: Record<string, unknown>) => object>) {
  const calls: { name: string; variables: Record<string, unknown> }[] = [];
  const nameOf = (query: DocumentNode) => {
    const op = query.definitions.find((d) => d.kind === 'OperationDefinition');
    return op && 'name' in op ? (op.name?.value ?? '') : '';
  };
  const client = {
    suspense: false,
    executeQuery: () => never,
    executeSubscription: () => never,
    executeMutation: (request: GraphQLRequest) => {
      const name = nameOf(request.query);
      const variables = (request.variables ?? {}) as Record<string, unknown>;
      calls.push({ name, variables });
      const answer = answers[name];
      if (!answer) throw new Error(`unexpected mutation ${name}`);
      return fromValue({ ...answer(variables), stale: false, hasNext: false });
    },
  } as unknown as Client;
  return { client, calls };
}

const loan = (barcode: string, heldFor: object | null, copyStatus: string) => ({
  checkInCopy: {
    __typename: 'Loan',
    id: 'loan-1',
    status: 'RETURNED',
    returnedAt: '2026-11-24T10:00:00.000Z',
    fineCents: 0,
    user: { __typename: 'User', id: 'u-ada', name: 'Ada Reader' },
    book: { __typename: 'Book', id: 'b-1', title: 'Dune', availableCopies: 0, totalCopies: 1 },
    copy: { __typename: 'Copy', id: 'c-1', barcode, status: copyStatus, heldFor },
  },
});

describe('the circulation desk, with a barcode scanner', () => {
  afterEach(cleanup);

  const scan = async (label: string, code: string) => {
    const input = screen.getByLabelText(label) as HTMLInputElement;
    input.focus();
    fireEvent.change(input, { target: { value: code } });
    // A scanner ends with Enter: the form submits.
    await act(async () => {
      fireEvent.submit(input.form!);
    });
    return input;
  };

  it('checks a copy in, says whose hold shelf it goes to, and is ready for the next scan', async () => {
    const heldFor = {
      __typename: 'Reservation',
      id: 'r-1',
      status: 'READY',
      pickupBy: '2026-11-27T12:00:00.000Z',
      user: { __typename: 'User', id: 'u-ben', name: 'Ben Borrower' },
    };
    const { client, calls } = fakeClient({
      DeskCheckIn: ({ barcode }) => ({ data: barcode === 'B-1' ? loan('B-1', heldFor, 'ON_HOLD_SHELF') : loan('B-2', null, 'AVAILABLE') }),
    });
    render(
      <Provider value={client}>
        <Desk />
      </Provider>,
    );
    let input = await scan('Barcode to check in', ' B-1 ');
    expect(calls).toEqual([{ name: 'DeskCheckIn', variables: { barcode: 'B-1' } }]);
    expect(screen.getByText('Checked in Dune from Ada Reader.')).toBeTruthy();
    expect(screen.getByText(/^Put this copy on the hold shelf for Ben Borrower \(pickup by .+2026\)$/)).toBeTruthy();
    expect(input.value).toBe('');
    expect(document.activeElement).toBe(input);

    input = await scan('Barcode to check in', 'B-2');
    expect(screen.getByText('Return this copy to the shelf.')).toBeTruthy();
    expect(screen.queryByText(/hold shelf/)).toBeNull();
    expect(document.activeElement).toBe(input);
  });

  it('shows a refusal as the server wrote it, with the barcode it was about', async () => {
    const message = 'No loan has the copy with barcode "NOPE" out. Check the label, or shelve the copy.';
    const { client } = fakeClient({
      DeskCheckIn: () => ({
        data: null,
        error: { graphQLErrors: [{ message, extensions: { code: 'NOT_FOUND' } }], networkError: undefined, message },
      }),
    });
    render(
      <Provider value={client}>
        <Desk />
      </Provider>,
    );
    const input = await scan('Barcode to check in', 'NOPE');
    expect(screen.getByRole('alert').textContent).toBe(`NOPE: ${message}`);
    expect(input.value).toBe('');
    expect(document.activeElement).toBe(input);
  });

  it('asks for the patron before checking out, without calling the server', async () => {
    const { client, calls } = fakeClient({});
    render(
      <Provider value={client}>
        <Desk />
      </Provider>,
    );
    await scan('Copy barcode', 'B-1');
    expect(screen.getByRole('alert').textContent).toContain('Choose the patron first');
    expect(calls).toEqual([]);
  });
});
