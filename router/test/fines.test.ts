/**
 * Fines and payments end to end, through the router, on the whole platform (PGlite): overdue returns fine
 * the patron (0, 1, many days and the cap, once per loan), a balance over the policy's limit blocks
 * borrowing and paying unblocks it, a librarian's fine reaches a real account (checked with the users
 * service), and another patron can neither see nor pay those fines.
 */
import { DOMAIN_EVENTS_CHANNEL, isDomainEvent, ServiceClock, type DomainEvent } from '@shelfwise/kit';
import { eventually, graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';

const START_TIMEOUT_MS = 240_000;
const ADMIN = { email: 'root@library.example', password: 'a long admin passphrase' };
const DAY = 86_400;
const POLICY = { loanDays: 14, finePerOverdueDayCents: 25, maxFinePerLoanCents: 1_000, maxBalanceCents: 500 };

interface Account {
  email: string;
  password: string;
  id: string;
}
interface FineRow {
  id: string;
  amountCents: number;
  reason: string;
  status: string;
  daysOverdue: number | null;
  loan: { id: string } | null;
}

let platform: Platform;
let url: string;
let bookId: string;
let alice: Account;
let bob: Account;
let admin: Account;
const events: DomainEvent[] = [];

const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

/** Access tokens live 15 minutes on the (moved) clock: sign in afresh for every request. */
async function as(who: Account): Promise<Record<string, string>> {
  const res = await graphql<{ login: { accessToken: string } }>(
    url,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: who.email, p: who.password },
  );
  expect(res.errors).toBeUndefined();
  return { authorization: `Bearer ${res.data!.login.accessToken}` };
}

async function call<T>(who: Account, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  return graphql<T>(url, query, variables, await as(who));
}

async function signUp(email: string, name: string): Promise<Account> {
  const password = `${name} reads a lot of books`;
  const res = await graphql<{ register: { user: { id: string } } }>(
    url,
    'mutation($input: RegisterInput!) { register(input: $input) { user { id } } }',
    { input: { email, name, password } },
  );
  expect(res.errors).toBeUndefined();
  return { email, password, id: res.data!.register.user.id };
}

const borrow = (who: Account) =>
  call<{ borrowBook: { id: string } }>(who, 'mutation($b: ID!) { borrowBook(bookId: $b) { id } }', { b: bookId });
const giveBack = (who: Account, loanId: string) =>
  call<{ returnLoan: { id: string; status: string; fineCents: number } }>(
    who,
    'mutation($l: ID!) { returnLoan(loanId: $l) { id status fineCents } }',
    { l: loanId },
  );
const myFines = async (who: Account) => {
  const res = await call<{ me: { balanceCents: number; fines: FineRow[]; payments: { id: string; amountCents: number }[] } }>(
    who,
    '{ me { balanceCents fines { id amountCents reason status daysOverdue loan { id } } payments { id amountCents } } }',
  );
  expect(res.errors).toBeUndefined();
  return res.data!.me;
};

/** Borrows, lets `seconds` pass, returns; answers the loan id and the fine it produced. */
async function lateReturn(who: Account, seconds: number): Promise<{ loanId: string; fineCents: number }> {
  const loan = await borrow(who);
  expect(loan.errors).toBeUndefined();
  platform.clock.advance(seconds);
  const back = await giveBack(who, loan.data!.borrowBook.id);
  expect(back.errors).toBeUndefined();
  expect(back.data?.returnLoan.status).toBe('RETURNED');
  return { loanId: loan.data!.borrowBook.id, fineCents: back.data!.returnLoan.fineCents };
}

beforeAll(async () => {
  platform = await startPlatform({ clock: new ServiceClock(true), subgraphs: { users: { admin: ADMIN } } });
  url = platform.router.url;
  await platform.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
    if (isDomainEvent(message) && message.type === 'FINE_ASSESSED') events.push(message);
  });
  alice = await signUp('alice@example.org', 'Alice');
  bob = await signUp('bob@example.org', 'Bob');
  admin = { ...ADMIN, id: '' };
  const book = await platform.subgraphs.books.books.create({ isbn: '9780000007775', title: 'Late Again', authors: ['Someone'], copies: 2 });
  bookId = book.id;
  const policy = await call(admin, 'mutation($input: LoanPolicyInput!) { updateLoanPolicy(role: PATRON, input: $input) { role } }', {
    input: POLICY,
  });
  expect(policy.errors).toBeUndefined();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await platform?.stop();
});

describe('overdue fines on return', () => {
  it('charges nothing for a loan back on time or less than a full day late', async () => {
    const { fineCents } = await lateReturn(alice, POLICY.loanDays * DAY + DAY - 60);
    expect(fineCents).toBe(0);
    expect(await myFines(alice)).toMatchObject({ balanceCents: 0, fines: [] });
  });

  it('charges one day, many days, and at most the cap — once per loan, even when the return is repeated', async () => {
    const one = await lateReturn(alice, (POLICY.loanDays + 1) * DAY);
    const ten = await lateReturn(alice, (POLICY.loanDays + 10) * DAY);
    const capped = await lateReturn(alice, (POLICY.loanDays + 100) * DAY);
    expect([one.fineCents, ten.fineCents, capped.fineCents]).toEqual([25, 250, 1_000]);

    // The same return again is refused by circulation and fines nobody twice.
    const again = await giveBack(alice, ten.loanId);
    expect(codes(again)).toEqual(['ALREADY_RETURNED']);

    await eventually(async () => (await myFines(alice)).fines.length === 3, 10_000, 'three fines recorded');
    const record = await myFines(alice);
    expect(record.balanceCents).toBe(1_275);
    expect(record.fines.map((f) => [f.reason, f.amountCents, f.daysOverdue, f.loan?.id])).toEqual([
      ['OVERDUE', 1_000, 100, capped.loanId],
      ['OVERDUE', 250, 10, ten.loanId],
      ['OVERDUE', 25, 1, one.loanId],
    ]);
    expect(events.filter((e) => e.userId === alice.id).map((e) => e.data?.amountCents)).toEqual([25, 250, 1_000]);
  });
});

describe('the balance limit', () => {
  it('blocks borrowing over the limit and lets the patron borrow again after paying', async () => {
    const blocked = await borrow(alice);
    expect(codes(blocked)).toEqual(['PATRON_BLOCKED']);

    const { fines } = await myFines(alice);
    const biggest = fines.find((f) => f.amountCents === 1_000)!;
    const paid = await call<{ payFines: { amountCents: number; fines: { id: string; status: string }[] } }>(
      alice,
      'mutation($input: PayFinesInput!) { payFines(input: $input) { amountCents fines { id status } } }',
      { input: { fineIds: [biggest.id], idempotencyKey: 'alice-pays-1' } },
    );
    expect(paid.errors).toBeUndefined();
    expect(paid.data?.payFines).toEqual({ amountCents: 1_000, fines: [{ id: biggest.id, status: 'PAID' }] });
    expect((await myFines(alice)).balanceCents).toBe(275);

    const allowed = await borrow(alice);
    expect(allowed.errors).toBeUndefined();
    expect((await giveBack(alice, allowed.data!.borrowBook.id)).errors).toBeUndefined();
  });

  it('counts a librarian’s fine for a real account, and refuses one for an id nobody has', async () => {
    const assess = (userId: string) =>
      call<{ assessFine: { amountCents: number; reason: string } }>(
        admin,
        'mutation($input: AssessFineInput!) { assessFine(input: $input) { amountCents reason } }',
        { input: { userId, amountCents: 400, reason: 'DAMAGED', note: 'Coffee on pages 10–40.' } },
      );
    const res = await assess(alice.id);
    expect(res.errors).toBeUndefined();
    expect((await myFines(alice)).balanceCents).toBe(675);
    expect(codes(await borrow(alice))).toEqual(['PATRON_BLOCKED']);
    expect(codes(await assess('00000000-0000-4000-8000-000000000000'))).toEqual(['NOT_FOUND']);
  });
});

describe("another patron's fines", () => {
  it('are neither visible nor payable, and a refused payment records nothing', async () => {
    const before = await myFines(alice);
    const open = before.fines.filter((f) => f.status === 'OPEN').map((f) => f.id);
    expect(open.length).toBeGreaterThan(0);

    const nested = await call<{ user: unknown }>(
      bob,
      'query($id: ID!) { user(id: $id) { id fines { id } balanceCents payments { id } } }',
      {
        id: alice.id,
      },
    );
    expect(codes(nested)).toContain('FORBIDDEN');
    expect(JSON.stringify(nested.data ?? null)).not.toContain(open[0]);

    // Reached through public catalogue data (Alice's review of the book), her fines stay hers.
    await platform.subgraphs.reviews.reviews.create({ bookId, authorId: alice.id, rating: 4, body: 'Worth the fines.' });
    const viaReview = await call<{ book: { reviews: { edges: { node: { author: unknown } }[] } } }>(
      bob,
      'query($id: ID!) { book(id: $id) { reviews(first: 5) { edges { node { author { id name balanceCents fines { id } payments { id } } } } } } }',
      { id: bookId },
    );
    expect(codes(viaReview).length).toBeGreaterThan(0);
    expect(new Set(codes(viaReview))).toEqual(new Set(['FORBIDDEN']));
    expect(JSON.stringify(viaReview.data ?? null)).not.toContain(open[0]);
    expect(JSON.stringify(viaReview.data ?? null)).not.toContain('675');

    const pay = await call(bob, 'mutation($input: PayFinesInput!) { payFines(input: $input) { id } }', {
      input: { fineIds: open, idempotencyKey: 'bob-tries' },
    });
    expect(codes(pay)).toEqual(['NOT_FOUND']);
    const after = await myFines(alice);
    expect(after).toEqual(before);
    expect((await myFines(bob)).payments).toEqual([]);
  });
});
