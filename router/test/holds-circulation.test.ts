/**
 * Holds and circulation together, end to end through the router (PGlite): a returned copy goes to the
 * first waiting hold (never back to the shelf while someone waits), a walk-in borrower cannot take it,
 * the holder's borrow takes exactly that copy and fulfils the hold, and the next in line moves up.
 */
import {
  CALLER_HEADER,
  callerCredential,
  DOMAIN_EVENTS_CHANNEL,
  isDomainEvent,
  serviceCredential,
  ServiceClock,
  type DomainEvent,
} from '@shelfwise/kit';
import { graphql } from '@shelfwise/testkit';
import type { LoansOptions } from '@shelfwise/loans';
import { startPlatform, type Platform } from '../src/platform.js';
import { Circulation, codes, type Person } from './circulationKit.js';

const START_TIMEOUT_MS = 240_000;

let platform: Platform;
let c: Circulation;
const events: DomainEvent[] = [];

interface HoldView {
  id: string;
  status: string;
  position: number | null;
  pickupBy: string | null;
}
const HOLD_FIELDS = 'id status position pickupBy';

beforeAll(async () => {
  const loans: LoansOptions = { circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: 60_000 } };
  platform = await startPlatform({
    clock: new ServiceClock(true),
    subgraphs: { loans },
    router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
  });
  c = new Circulation(platform);
  await platform.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
    if (isDomainEvent(message)) events.push(message);
  });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await platform?.stop();
});

async function reserve(who: Person, bookId: string) {
  return c.call<{ reserveBook: HoldView }>(who, `mutation($id: ID!) { reserveBook(bookId: $id) { ${HOLD_FIELDS} } }`, { id: bookId });
}

async function myHolds(who: Person): Promise<HoldView[]> {
  const res = await c.call<{ me: { reservations: { edges: { node: HoldView }[] } } }>(
    who,
    `{ me { reservations(first: 50) { edges { node { ${HOLD_FIELDS} } } } } }`,
  );
  expect(res.errors).toBeUndefined();
  return res.data!.me.reservations.edges.map((e) => e.node);
}

describe('a returned copy and the hold queue', () => {
  it('goes to the first waiting hold; a walk-in cannot take it; the holder borrows it and the queue moves up', async () => {
    const [alice, bob, carol, dave] = await Promise.all([c.person(), c.person(), c.person(), c.person()]);
    const book = await c.book(1);

    const lent = await c.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    const loanId = lent.data!.borrowBook.id;

    const bobHold = await reserve(bob, book.id);
    expect(bobHold.errors).toBeUndefined();
    expect(bobHold.data!.reserveBook).toMatchObject({ status: 'WAITING', position: 1, pickupBy: null });
    const carolHold = await reserve(carol, book.id);
    expect(carolHold.data!.reserveBook).toMatchObject({ status: 'WAITING', position: 2 });

    // Alice returns: the copy goes straight to Bob's hold, never onto the open shelf.
    const returnedFrom = platform.clock.now().getTime();
    const back = await c.returnLoan(alice, loanId);
    const returnedBy = platform.clock.now().getTime();
    expect(back.errors).toBeUndefined();
    expect(back.data!.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    expect(await c.availableCopies(book.id)).toBe(0);
    const [bobReady] = await myHolds(bob);
    expect(bobReady).toMatchObject({ id: bobHold.data!.reserveBook.id, status: 'READY' });
    // Ready for the policy's 3 pickup days from the moment the copy came back.
    const pickupBy = new Date(bobReady!.pickupBy!).getTime() - 3 * 86_400_000;
    expect(pickupBy).toBeGreaterThanOrEqual(returnedFrom);
    expect(pickupBy).toBeLessThanOrEqual(returnedBy);
    expect(events.filter((e) => e.type === 'RESERVATION_READY' && e.userId === bob.id)).toHaveLength(1);

    // Nobody else can take the copy on the hold shelf: not a walk-in, not the next in line.
    expect(codes(await c.borrow(dave, book.id))).toEqual(['BOOK_UNAVAILABLE']);
    expect(codes(await c.borrow(carol, book.id))).toEqual(['BOOK_UNAVAILABLE']);

    // Bob borrows: he gets that very copy and his hold is fulfilled; Carol is now first.
    const bobLoan = await c.borrow(bob, book.id);
    expect(bobLoan.errors).toBeUndefined();
    expect(bobLoan.data!.borrowBook.copy.barcode).toBe(book.barcodes[0]);
    expect((await myHolds(bob))[0]).toMatchObject({ status: 'FULFILLED', position: null });
    expect((await myHolds(carol))[0]).toMatchObject({ status: 'WAITING', position: 1 });
    const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: bobLoan.data!.borrowBook.id } });
    expect(row.reservationId).toBe(bobHold.data!.reserveBook.id);
    expect(row.holdFulfilledAt).not.toBeNull();
    expect(await c.invariantProblems([book.id])).toEqual([]);

    // Bob returns: the copy goes to Carol in turn.
    await c.returnLoan(bob, bobLoan.data!.borrowBook.id);
    expect((await myHolds(carol))[0]).toMatchObject({ status: 'READY' });
    expect(await c.availableCopies(book.id)).toBe(0);
  });

  it('refuses a hold on a book the patron has on loan (CONFLICT), and allows it once returned', async () => {
    const [alice, bob] = await Promise.all([c.person(), c.person()]);
    const book = await c.book(1);
    const lent = await c.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    const mine = await reserve(alice, book.id);
    expect(codes(mine)).toEqual(['CONFLICT']);
    expect(mine.errors?.[0]?.message).toMatch(/already have .* on loan/);
    expect(await myHolds(alice)).toEqual([]);
    // Someone else may wait for it; after Alice returns it (to Bob's hold) she may queue again.
    expect((await reserve(bob, book.id)).errors).toBeUndefined();
    await c.returnLoan(alice, lent.data!.borrowBook.id);
    expect((await reserve(alice, book.id)).data?.reserveBook).toMatchObject({ status: 'WAITING', position: 1 });
  });

  it('refuses a walk-in a copy on the open shelf while holds wait (it belongs to the queue)', async () => {
    const [alice, bob, dave] = await Promise.all([c.person(), c.person(), c.person()]);
    const book = await c.book(1);
    const lent = await c.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    expect((await reserve(bob, book.id)).errors).toBeUndefined();
    // A copy reaching the shelf before reservations has set it aside (written straight into books'
    // database, so no availability event tells reservations about it).
    await platform.subgraphs.books.database.prisma.copy.create({ data: { bookId: book.id, barcode: `${book.barcodes[0]}-X` } });
    expect(await c.availableCopies(book.id)).toBe(1);

    const walkIn = await c.borrow(dave, book.id);
    expect(codes(walkIn)).toEqual(['BOOK_UNAVAILABLE']);
    expect(walkIn.errors?.[0]?.message).toMatch(/1 person is waiting for this book.*Place a hold/);
    expect(await c.availableCopies(book.id)).toBe(1);
    expect(await c.sagaRows(dave.id)).toEqual([]);
  });

  it('answers the internal account and open-loan questions to services only, never to a user sent straight to the subgraph', async () => {
    const [alice, librarian] = await Promise.all([c.person(), c.person('LIBRARIAN')]);
    const book = await c.book(1);
    const lent = await c.borrow(alice, book.id);
    const asLibrarian = { [CALLER_HEADER]: callerCredential({ userId: librarian.id, role: 'LIBRARIAN' }) };
    const asService = (name: string) => ({ [CALLER_HEADER]: serviceCredential(name) });
    const account = 'query($id: ID!) { circulationAccount(id: $id) { id role } }';
    const openLoan = 'query($u: ID!, $b: ID!) { openLoanOf(userId: $u, bookId: $b) }';

    const refusedAccount = await graphql(platform.subgraphs.users.url, account, { id: alice.id }, asLibrarian);
    expect(codes(refusedAccount)).toEqual(['FORBIDDEN']);
    const refusedLoan = await graphql(platform.subgraphs.loans.url, openLoan, { u: alice.id, b: book.id }, asLibrarian);
    expect(codes(refusedLoan)).toEqual(['FORBIDDEN']);

    const allowedAccount = await graphql(platform.subgraphs.users.url, account, { id: alice.id }, asService('loans'));
    expect(allowedAccount.data).toEqual({ circulationAccount: { id: alice.id, role: 'PATRON' } });
    const allowedLoan = await graphql(platform.subgraphs.loans.url, openLoan, { u: alice.id, b: book.id }, asService('reservations'));
    expect(allowedLoan.data).toEqual({ openLoanOf: lent.data!.borrowBook.id });
    const noAccount = await graphql(
      platform.subgraphs.users.url,
      account,
      { id: '00000000-0000-4000-8000-000000000000' },
      asService('loans'),
    );
    expect(noAccount.data).toEqual({ circulationAccount: null });
  });

  it('shelves a returned copy when nobody waits', async () => {
    const alice = await c.person();
    const book = await c.book(1);
    const lent = await c.borrow(alice, book.id);
    const back = await c.returnLoan(alice, lent.data!.borrowBook.id);
    expect(back.data!.returnLoan.copy.status).toBe('AVAILABLE');
    expect(await c.availableCopies(book.id)).toBe(1);
  });
});
