/**
 * Circulation end to end through the router on the whole platform (PGlite): borrowing, the desk,
 * returns with fines assessed by payments, renewals, every refusal and that it changes nothing, who sees
 * which loans, policy edits, and the due-date scanner on the test clock. The invariant between loans and
 * books is checked after each group. Concurrency and crashes are in circulation.postgres.test.ts.
 */
import { DOMAIN_EVENTS_CHANNEL, isDomainEvent, ServiceClock, type DomainEvent } from '@shelfwise/kit';
import type { LoansOptions } from '@shelfwise/loans';
import { startPlatform, type Platform } from '../src/platform.js';
import { Circulation, codes, LOAN_FIELDS, type LoanView, type Person } from './circulationKit.js';

const START_TIMEOUT_MS = 240_000;
const DAY = 86_400;
const DAY_MS = DAY * 1000;

let platform: Platform;
let c: Circulation;
let alice: Person;
let bob: Person;
let librarian: Person;
let admin: Person;
const books: string[] = [];
const events: DomainEvent[] = [];

/** A book with `copies` copies, remembered for the invariant check. */
async function newBook(copies: number) {
  const book = await c.book(copies);
  books.push(book.id);
  return book;
}

async function expectInvariant() {
  expect(await c.invariantProblems(books)).toEqual([]);
}

beforeAll(async () => {
  // The reconciler and scanner only run when a test asks, so what each test sees is its own doing.
  const loans: LoansOptions = { circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: 60_000 } };
  platform = await startPlatform({
    clock: new ServiceClock(true),
    subgraphs: { loans },
    router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
  });
  c = new Circulation(platform);
  [alice, bob, librarian, admin] = await Promise.all([c.person(), c.person(), c.person('LIBRARIAN'), c.person('ADMIN')]);
  await platform.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
    if (isDomainEvent(message) && message.source === 'loans') events.push(message);
  });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await platform?.stop();
});

describe('borrowing and returning', () => {
  it('lends a copy for the policy’s 14 days on the service clock, and books shows it on loan', async () => {
    const book = await newBook(2);
    const before = platform.clock.now().getTime();
    const res = await c.borrow(alice, book.id);
    expect(res.errors).toBeUndefined();
    const loan = res.data!.borrowBook;
    expect(loan).toMatchObject({
      status: 'ACTIVE',
      renewalCount: 0,
      overdue: false,
      fineCents: 0,
      returnedAt: null,
      user: { id: alice.id },
    });
    expect(loan.book.id).toBe(book.id);
    expect(loan.copy.status).toBe('ON_LOAN');
    expect(book.barcodes).toContain(loan.copy.barcode);
    const borrowedAt = new Date(loan.borrowedAt).getTime();
    expect(borrowedAt).toBeGreaterThanOrEqual(before);
    expect(new Date(loan.dueAt).getTime() - borrowedAt).toBe(14 * DAY_MS);
    expect(await c.availableCopies(book.id)).toBe(1);

    const mine = await c.call<{ user: { loans: { totalCount: number; edges: { node: LoanView }[] } } }>(
      alice,
      `query($id: ID!) { user(id: $id) { loans(status: ACTIVE) { totalCount edges { node { ${LOAN_FIELDS} } } } } }`,
      { id: alice.id },
    );
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.user.loans.edges.map((e) => e.node.id)).toContain(loan.id);
    await expectInvariant();

    const back = await c.returnLoan(alice, loan.id);
    expect(back.errors).toBeUndefined();
    expect(back.data?.returnLoan).toMatchObject({ id: loan.id, status: 'RETURNED', fineCents: 0, copy: { status: 'AVAILABLE' } });
    expect(back.data?.returnLoan.returnedAt).not.toBeNull();
    expect(await c.availableCopies(book.id)).toBe(2);
    const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loan.id } });
    expect(row.checkedInAt).not.toBeNull();
    expect(row.fineSettledAt).not.toBeNull();
    await expectInvariant();
  });

  it('checks copies out and in at the desk by barcode', async () => {
    const book = await newBook(1);
    const barcode = book.barcodes[0]!;
    const out = await c.checkOut(librarian, barcode, bob.id);
    expect(out.errors).toBeUndefined();
    expect(out.data?.checkOutCopy).toMatchObject({ status: 'ACTIVE', user: { id: bob.id }, copy: { barcode, status: 'ON_LOAN' } });
    await expectInvariant();

    const back = await c.checkIn(librarian, `  ${barcode} `);
    expect(back.errors).toBeUndefined();
    expect(back.data?.checkInCopy).toMatchObject({ id: out.data!.checkOutCopy.id, status: 'RETURNED', copy: { status: 'AVAILABLE' } });

    const again = await c.checkIn(librarian, barcode);
    expect(codes(again)).toEqual(['ALREADY_RETURNED']);
    const unknown = await c.checkOut(librarian, 'NO-SUCH-BARCODE', bob.id);
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    expect(unknown.errors?.[0]?.message).toMatch(/No copy has the barcode "NO-SUCH-BARCODE"/);
    expect(codes(await c.checkIn(librarian, 'NO-SUCH-BARCODE'))).toEqual(['NOT_FOUND']);
    expect(codes(await c.checkOut(librarian, '   ', bob.id))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await c.checkOut(librarian, barcode, 'bob'))).toEqual(['BAD_USER_INPUT']);
    // A well-formed id that belongs to no account: refused, nothing lent.
    const nobody = await c.checkOut(librarian, barcode, '00000000-0000-4000-8000-000000000000');
    expect(codes(nobody)).toEqual(['NOT_FOUND']);
    expect(nobody.errors?.[0]?.message).toMatch(/No account has this user id/);
    expect(await c.availableCopies(book.id)).toBe(1);
    await expectInvariant();
  });
});

describe('refusals change nothing', () => {
  it('BOOK_UNAVAILABLE when no copy is free, saying a hold can be placed', async () => {
    const book = await newBook(1);
    expect((await c.borrow(bob, book.id)).errors).toBeUndefined();
    const before = await c.sagaRows(alice.id);
    const res = await c.borrow(alice, book.id);
    expect(res.data).toBeNull();
    expect(codes(res)).toEqual(['BOOK_UNAVAILABLE']);
    expect(res.errors?.[0]?.message).toMatch(/hold/i);
    expect(await c.sagaRows(alice.id)).toEqual(before);
    expect(await c.availableCopies(book.id)).toBe(0);
    await expectInvariant();
  });

  it('CONFLICT when the patron already has the book; NOT_FOUND / BAD_USER_INPUT for books that are not there', async () => {
    const book = await newBook(3);
    const first = await c.borrow(alice, book.id);
    expect(first.errors).toBeUndefined();
    const second = await c.borrow(alice, book.id);
    expect(codes(second)).toEqual(['CONFLICT']);
    expect(second.errors?.[0]?.message).toMatch(/already have this book on loan/);
    expect(await c.availableCopies(book.id)).toBe(2);
    expect(codes(await c.borrow(alice, '00000000-0000-4000-8000-000000000000'))).toEqual(['NOT_FOUND']);
    expect(codes(await c.borrow(alice, 'not-a-book'))).toEqual(['BAD_USER_INPUT']);
    expect((await c.sagaRows(alice.id)).filter((l) => l.status === 'PENDING' || l.status === 'CANCELLED')).toEqual([]);
    await c.returnLoan(alice, first.data!.borrowBook.id);
    await expectInvariant();
  });

  it('LOAN_LIMIT_REACHED at the policy’s limit, which an admin can change', async () => {
    const carol = await c.person();
    expect((await c.updatePolicy(admin, 'PATRON', { maxActiveLoans: 2 })).errors).toBeUndefined();
    try {
      const titles = await Promise.all([newBook(1), newBook(1), newBook(1)]);
      expect((await c.borrow(carol, titles[0]!.id)).errors).toBeUndefined();
      expect((await c.borrow(carol, titles[1]!.id)).errors).toBeUndefined();
      const third = await c.borrow(carol, titles[2]!.id);
      expect(codes(third)).toEqual(['LOAN_LIMIT_REACHED']);
      expect(third.errors?.[0]?.message).toMatch(/2 loans out, the most allowed/);
      expect(await c.availableCopies(titles[2]!.id)).toBe(1);
      expect(await c.sagaRows(carol.id)).toHaveLength(2);
    } finally {
      await c.updatePolicy(admin, 'PATRON', { maxActiveLoans: 5 });
    }
    await expectInvariant();
  });

  it('PATRON_BLOCKED when fines are over the limit, saying how much to pay', async () => {
    const dave = await c.person();
    const fine = await c.call<{ assessFine: { id: string } }>(
      librarian,
      'mutation($i: AssessFineInput!) { assessFine(input: $i) { id } }',
      { i: { userId: dave.id, amountCents: 650, reason: 'DAMAGED', note: 'Coffee on pages 10-40' } },
    );
    expect(fine.errors).toBeUndefined();
    const book = await newBook(1);
    const res = await c.borrow(dave, book.id);
    expect(codes(res)).toEqual(['PATRON_BLOCKED']);
    expect(res.errors?.[0]?.extensions?.reason).toBe('BALANCE_OVER_LIMIT');
    expect(res.errors?.[0]?.message).toMatch(/\$6\.50 in fines, more than the \$5\.00 allowed.*Pay at least \$1\.50/);
    expect(await c.sagaRows(dave.id)).toEqual([]);
    expect(await c.availableCopies(book.id)).toBe(1);
  });

  it('refuses bad policy values and anyone but an admin', async () => {
    expect(codes(await c.updatePolicy(admin, 'PATRON', { loanDays: 0 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await c.updatePolicy(librarian, 'PATRON', { loanDays: 7 }))).toEqual(['FORBIDDEN']);
    expect(codes(await c.updatePolicy(alice, 'PATRON', { loanDays: 7 }))).toEqual(['FORBIDDEN']);
  });
});

describe('renewals', () => {
  it('moves the due date to loanDays from the renewal, never earlier, up to the renewal limit', async () => {
    const book = await newBook(1);
    const loan = (await c.borrow(alice, book.id)).data!.borrowBook;
    const due0 = new Date(loan.dueAt).getTime();

    // Renewing at once: 14 days from now is just after the current due date.
    const first = await c.renew(alice, loan.id);
    expect(first.errors).toBeUndefined();
    expect(first.data?.renewLoan.renewalCount).toBe(1);
    const due1 = new Date(first.data!.renewLoan.dueAt).getTime();
    expect(due1).toBeGreaterThanOrEqual(due0);
    expect(due1 - platform.clock.now().getTime()).toBeLessThanOrEqual(14 * DAY_MS);

    // Ten days later: the new due date is 14 days from then.
    platform.clock.advance(10 * DAY);
    const second = await c.renew(librarian, loan.id);
    expect(second.errors).toBeUndefined();
    const renewedAt = platform.clock.now().getTime();
    const due2 = new Date(second.data!.renewLoan.dueAt).getTime();
    expect(second.data?.renewLoan.renewalCount).toBe(2);
    expect(due2 - renewedAt).toBeGreaterThan(14 * DAY_MS - 5_000);
    expect(due2 - renewedAt).toBeLessThanOrEqual(14 * DAY_MS);

    const third = await c.renew(alice, loan.id);
    expect(codes(third)).toEqual(['RENEWAL_LIMIT_REACHED']);
    expect(third.errors?.[0]?.message).toMatch(/renewed 2 times, the most allowed/);
    const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loan.id } });
    expect(row.dueAt.getTime()).toBe(due2);

    await c.returnLoan(alice, loan.id);
    expect(codes(await c.renew(alice, loan.id))).toEqual(['ALREADY_RETURNED']);
  });

  it('RENEWAL_BLOCKED_BY_HOLD while someone waits for the book', async () => {
    const book = await newBook(1);
    const loan = (await c.borrow(alice, book.id)).data!.borrowBook;
    const hold = await platform.subgraphs.reservations.reservations.create({ userId: bob.id, bookId: book.id });
    try {
      const res = await c.renew(alice, loan.id);
      expect(codes(res)).toEqual(['RENEWAL_BLOCKED_BY_HOLD']);
      expect(res.errors?.[0]?.message).toMatch(/Another patron is waiting for this book/);
      const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loan.id } });
      expect(row.renewalCount).toBe(0);
      expect(row.dueAt.toISOString()).toBe(loan.dueAt);
    } finally {
      await platform.subgraphs.reservations.database.prisma.reservation.delete({ where: { id: hold.id } });
    }
    await c.returnLoan(alice, loan.id);
  });
});

describe('overdue loans, fines and the scanner', () => {
  it('emits DUE_SOON as the due date nears and OVERDUE once, blocks the patron, and fines the return once', async () => {
    const erin = await c.person();
    const book = await newBook(1);
    const other = await newBook(1);
    const loan = (await c.borrow(erin, book.id)).data!.borrowBook;
    const scan = () => platform.subgraphs.loans.scanner.runNow();
    const mine = () => events.filter((e) => e.loanId === loan.id);

    await scan();
    expect(mine()).toEqual([]);

    // 12.5 days in: due in 1.5 days → DUE_SOON with 2 days left, once however often the scanner runs.
    platform.clock.advance(12 * DAY + 12 * 3600);
    await scan();
    await scan();
    await new Promise((r) => setTimeout(r, 50));
    expect(mine()).toEqual([
      expect.objectContaining({
        id: `DUE_SOON:${loan.id}:${dueStamp(loan.dueAt)}:2`,
        type: 'DUE_SOON',
        userId: erin.id,
        bookId: book.id,
        source: 'loans',
        data: { dueAt: loan.dueAt, daysLeft: 2 },
      }),
    ]);

    // Past the due date by 3 days and an hour: OVERDUE exactly once.
    platform.clock.advance(4 * DAY + 12 * 3600 + 3600);
    await scan();
    await scan();
    await new Promise((r) => setTimeout(r, 50));
    expect(mine().map((e) => e.id)).toEqual([`DUE_SOON:${loan.id}:${dueStamp(loan.dueAt)}:2`, `OVERDUE:${loan.id}`]);
    expect(mine()[1]?.data).toEqual({ dueAt: loan.dueAt });

    const view = await c.call<{ user: { loans: { edges: { node: LoanView }[] } } }>(
      erin,
      `query($id: ID!) { user(id: $id) { loans { edges { node { ${LOAN_FIELDS} } } } } }`,
      { id: erin.id },
    );
    expect(view.data?.user.loans.edges[0]?.node).toMatchObject({ overdue: true, fineCents: 75 });
    const overdueList = await c.call<{ loans: { edges: { node: { id: string } }[] } }>(
      librarian,
      'query($f: LoanFilter) { loans(filter: $f, first: 100) { edges { node { id } } } }',
      { f: { overdue: true, userId: erin.id } },
    );
    expect(overdueList.data?.loans.edges.map((e) => e.node.id)).toEqual([loan.id]);

    const blocked = await c.borrow(erin, other.id);
    expect(codes(blocked)).toEqual(['PATRON_BLOCKED']);
    expect(blocked.errors?.[0]?.extensions?.reason).toBe('LOAN_OVERDUE');
    expect(blocked.errors?.[0]?.message).toMatch(/overdue loan \(due \d{4}-\d\d-\d\d\)/);
    expect(codes(await c.renew(erin, loan.id))).toEqual(['PATRON_BLOCKED']);

    const back = await c.returnLoan(erin, loan.id);
    expect(back.errors).toBeUndefined();
    expect(back.data?.returnLoan).toMatchObject({ status: 'RETURNED', fineCents: 75, overdue: false });
    const fines = await c.call<{
      user: { balanceCents: number; fines: { amountCents: number; reason: string; loan: { id: string } | null }[] };
    }>(erin, 'query($id: ID!) { user(id: $id) { balanceCents fines { amountCents reason loan { id } } } }', { id: erin.id });
    expect(fines.errors).toBeUndefined();
    expect(fines.data?.user.fines).toEqual([{ amountCents: 75, reason: 'OVERDUE', loan: { id: loan.id } }]);

    // The fine step repeated (as the reconciler would after a lost answer) charges nothing more.
    const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loan.id } });
    await platform.subgraphs.loans.circulation.finishReturn({ ...row, checkedInAt: row.checkedInAt, fineSettledAt: null });
    const again = await c.call<{ user: { balanceCents: number; fines: unknown[] } }>(
      erin,
      'query($id: ID!) { user(id: $id) { balanceCents fines { amountCents } } }',
      { id: erin.id },
    );
    expect(again.data?.user).toEqual({ balanceCents: 75, fines: [{ amountCents: 75 }] });
    // After the return, the scanner has nothing more to say about this loan.
    await scan();
    expect(mine()).toHaveLength(2);
    await expectInvariant();
  });
});

describe('who sees and changes which loans', () => {
  it('lets patrons see and act on their own loans only; librarians see and return anyone’s', async () => {
    const book = await newBook(1);
    const loan = (await c.borrow(alice, book.id)).data!.borrowBook;

    const bobsLook = await c.call(bob, 'query($id: ID!) { user(id: $id) { loans { totalCount } } }', { id: alice.id });
    expect(codes(bobsLook)).toEqual(['FORBIDDEN']);
    expect(codes(await c.returnLoan(bob, loan.id))).toEqual(['FORBIDDEN']);
    expect(codes(await c.renew(bob, loan.id))).toEqual(['FORBIDDEN']);
    expect(codes(await c.call(bob, '{ loans { totalCount } }'))).toEqual(['FORBIDDEN']);
    expect(codes(await c.checkOut(bob, book.barcodes[0]!, bob.id))).toEqual(['FORBIDDEN']);
    expect(codes(await c.checkIn(bob, book.barcodes[0]!))).toEqual(['FORBIDDEN']);
    const anonymous = await c.call(null, `mutation($id: ID!) { borrowBook(bookId: $id) { id } }`, { id: book.id });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(codes(await c.returnLoan(bob, '00000000-0000-4000-8000-000000000000'))).toEqual(['NOT_FOUND']);

    const list = await c.call<{ loans: { totalCount: number; edges: { node: { id: string; user: { id: string } } }[] } }>(
      librarian,
      'query($f: LoanFilter) { loans(filter: $f) { totalCount edges { node { id user { id } } } } }',
      { f: { bookId: book.id, status: 'ACTIVE' } },
    );
    expect(list.errors).toBeUndefined();
    expect(list.data?.loans.edges).toEqual([{ node: { id: loan.id, user: { id: alice.id } } }]);

    const byStaff = await c.returnLoan(librarian, loan.id);
    expect(byStaff.data?.returnLoan.status).toBe('RETURNED');
    expect(codes(await c.returnLoan(alice, loan.id))).toEqual(['ALREADY_RETURNED']);
    await expectInvariant();
  });
});

/** The due date as the scanner writes it into DUE_SOON ids (UTC, YYYYMMDDTHHMMSS). */
function dueStamp(dueAt: string): string {
  return new Date(dueAt).toISOString().slice(0, 19).replace(/[-:]/g, '');
}
