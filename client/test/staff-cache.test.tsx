/**
 * @jest-environment jsdom
 */
/**
 * The librarian screens' cache updates (client/src/cache/desk.ts), run through the app's real normalized
 * cache with a fake server behind it: which lists a desk mutation makes the screens ask for again, and what
 * the mutations' own selections update in place.
 */
import { Client, getOperationName, gql, makeResult, type Exchange, type Operation } from '@urql/core';
import { filter, map, pipe, subscribe } from 'wonka';
import { createCacheExchange } from '../src/cache';

const USER = 'u-ada';

/** A fake server: answers each operation by name and counts what reached it. */
function setup(answers: Record<string, (op: Operation) => object>) {
  const sent: string[] = [];
  const server: Exchange = () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind !== 'teardown'),
      map((op) => {
        const name = getOperationName(op.query) ?? '';
        sent.push(name);
        const answer = answers[name];
        if (!answer) throw new Error(`unexpected operation ${name}`);
        return makeResult(op, { data: answer(op) });
      }),
    );
  const client = new Client({ url: 'http://shelfwise.test/graphql', exchanges: [createCacheExchange(), server] });
  return { client, sent };
}

const PatronMoney = gql`
  query PatronMoney($id: ID!) {
    user(id: $id) {
      id
      role
      balanceCents
      fines {
        id
        status
      }
      open: fines(status: OPEN) {
        id
      }
      loans(status: ACTIVE, first: 1) {
        totalCount
      }
    }
  }
`;

function patron(balanceCents: number, fines: { id: string; status: string }[], activeLoans: number, role = 'PATRON') {
  return {
    user: {
      __typename: 'User',
      id: USER,
      role,
      balanceCents,
      fines: fines.map((f) => ({ __typename: 'Fine', ...f })),
      open: fines.filter((f) => f.status === 'OPEN').map((f) => ({ __typename: 'Fine', id: f.id })),
      loans: { __typename: 'LoanConnection', totalCount: activeLoans },
    },
  };
}

/** Keeps the patron query on screen (subscribed) and returns what it showed, latest last. */
function watch(client: Client) {
  const seen: ReturnType<typeof patron>[] = [];
  const { unsubscribe } = pipe(
    client.query(PatronMoney, { id: USER }),
    subscribe((result) => {
      if (result.data) seen.push(result.data as ReturnType<typeof patron>);
    }),
  );
  return { seen, unsubscribe };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('desk cache updates', () => {
  it('after assessFine the patron’s fines and balance are asked for again (every status filter)', async () => {
    let state = patron(0, [], 0);
    const { client, sent } = setup({
      PatronMoney: () => state,
      StaffAssessFine: () => ({
        assessFine: { __typename: 'Fine', id: 'f-1', amountCents: 250, status: 'OPEN', user: { __typename: 'User', id: USER } },
      }),
    });
    const { seen, unsubscribe } = watch(client);
    await tick();
    expect(sent).toEqual(['PatronMoney']);
    state = patron(250, [{ id: 'f-1', status: 'OPEN' }], 0);
    await client
      .mutation(
        gql`
          mutation StaffAssessFine($input: AssessFineInput!) {
            assessFine(input: $input) {
              id
              amountCents
              status
              user {
                id
              }
            }
          }
        `,
        { input: { userId: USER, amountCents: 250, reason: 'LOST' } },
      )
      .toPromise();
    await tick();
    expect(sent).toEqual(['PatronMoney', 'StaffAssessFine', 'PatronMoney']);
    expect(seen.at(-1)?.user.balanceCents).toBe(250);
    expect(seen.at(-1)?.user.open.map((f) => f.id)).toEqual(['f-1']);
    unsubscribe();
  });

  it('after checkOutCopy the borrower’s loans are asked for again; the book’s counts come from the selection', async () => {
    let state = patron(0, [], 0);
    const { client, sent } = setup({
      PatronMoney: () => state,
      BookCounts: () => ({ book: { __typename: 'Book', id: 'b-1', availableCopies: 1, totalCopies: 1 } }),
      DeskCheckOut: () => ({
        checkOutCopy: {
          __typename: 'Loan',
          id: 'l-1',
          user: { __typename: 'User', id: USER },
          book: { __typename: 'Book', id: 'b-1', availableCopies: 0, totalCopies: 1 },
        },
      }),
    });
    const { seen, unsubscribe } = watch(client);
    const book: { availableCopies: number }[] = [];
    const bookSub = pipe(
      client.query(
        gql`
          query BookCounts {
            book(id: "b-1") {
              id
              availableCopies
              totalCopies
            }
          }
        `,
        {},
      ),
      subscribe((r) => r.data && book.push(r.data.book)),
    );
    await tick();
    state = patron(0, [], 1);
    await client
      .mutation(
        gql`
          mutation DeskCheckOut($barcode: String!, $userId: ID!) {
            checkOutCopy(barcode: $barcode, userId: $userId) {
              id
              user {
                id
              }
              book {
                id
                availableCopies
                totalCopies
              }
            }
          }
        `,
        { barcode: 'B-1', userId: USER },
      )
      .toPromise();
    await tick();
    expect(sent.filter((n) => n === 'PatronMoney')).toHaveLength(2);
    expect(sent.filter((n) => n === 'BookCounts')).toHaveLength(1);
    expect(seen.at(-1)?.user.loans.totalCount).toBe(1);
    expect(book.at(-1)?.availableCopies).toBe(0);
    unsubscribe();
    bookSub.unsubscribe();
  });

  it('after setUserRole the role changes in place, without asking again', async () => {
    const { client, sent } = setup({
      PatronMoney: () => patron(0, [], 0),
      AdminSetUserRole: () => ({ setUserRole: { __typename: 'User', id: USER, role: 'LIBRARIAN' } }),
    });
    const { seen, unsubscribe } = watch(client);
    await tick();
    await client
      .mutation(
        gql`
          mutation AdminSetUserRole($userId: ID!, $role: Role!) {
            setUserRole(userId: $userId, role: $role) {
              id
              role
            }
          }
        `,
        { userId: USER, role: 'LIBRARIAN' },
      )
      .toPromise();
    await tick();
    expect(sent).toEqual(['PatronMoney', 'AdminSetUserRole']);
    expect(seen.at(-1)?.user.role).toBe('LIBRARIAN');
    unsubscribe();
  });
});
