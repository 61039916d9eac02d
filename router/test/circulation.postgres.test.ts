/**
 * Circulation under load and failure, through the router, on real Postgres (a database per subgraph):
 * 200 patrons racing for 3 copies, a patron racing themselves past the loan limit and onto the same book,
 * the loans process killed between saga steps and restarted (the reconciler restores the invariant),
 * borrowing while books is down and returning while payments is down.
 */
import { SUBGRAPH_NAMES, ServiceClock, type SubgraphDirectory, type SubgraphName } from '@shelfwise/kit';
import { start as startBooks } from '@shelfwise/books';
import { start as startLoans, type LoansOptions, type ReconcileReport, type SagaStep } from '@shelfwise/loans';
import { start as startPayments } from '@shelfwise/payments';
import { dropTestDatabase, freshDatabaseName, graphql, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import { Circulation, codes, type LoanView, type Person } from './circulationKit.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

const START_TIMEOUT_MS = 240_000;
const databaseNames = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, freshDatabaseName(`circ_${name}`)])) as Record<
  SubgraphName,
  string
>;
const dbOptions = (name: SubgraphName) => ({ databaseUrl: TEST_DATABASE_URL, databaseName: databaseNames[name] });

/** Stale after a minute of service-clock time: tests move the clock past it to hand sagas to the reconciler. */
const STALE_SECONDS = 60;
const settings = { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: STALE_SECONDS * 1000 };

/**
 * Where the loans process "dies": when `step` is reached, the saga stops there for good (the hook never
 * settles), as if the process had been killed between two steps. The test then stops that process and
 * starts a fresh one on the same database.
 */
const crash: { step: SagaStep | null; reached: (loanId: string) => void } = { step: null, reached: () => undefined };
const hooks: LoansOptions['sagaHooks'] = {
  afterStep(step, loanId) {
    if (crash.step !== step) return Promise.resolve();
    crash.step = null;
    crash.reached(loanId);
    return new Promise<void>(() => undefined);
  },
};

let platform: Platform;
let c: Circulation;
let admin: Person;
const books: string[] = [];

const directory: SubgraphDirectory = { url: (name) => platform.subgraphs[name].url };
const sharedOptions = () => ({ bus: platform.bus, clock: platform.clock, services: directory });

async function newBook(copies: number) {
  const book = await c.book(copies);
  books.push(book.id);
  return book;
}

/** Stops the running loans process (as a kill would, mid-saga) and starts a new one on its port and database. */
async function restartLoans(): Promise<void> {
  const old = platform.subgraphs.loans;
  await old.stop();
  platform.subgraphs.loans = await startLoans({
    ...sharedOptions(),
    ...dbOptions('loans'),
    port: old.port,
    circulation: settings,
    sagaHooks: hooks,
  });
}

/** A borrow whose process dies at `step`: resolves with the loan id once the saga got there. */
async function borrowUntilCrash(step: SagaStep, who: Person, bookId: string) {
  const reached = new Promise<string>((resolve) => {
    crash.reached = resolve;
  });
  crash.step = step;
  // The request never gets a proper answer (its process died); it settles when the process stops.
  const request = c.borrow(who, bookId);
  return { loanId: await reached, request };
}

/**
 * Reconciles everything older than the stale threshold: a pass now (it also waits for one already running,
 * such as the pass a restarted process makes at start), then one after moving the clock past the
 * threshold. Returns what the two did together.
 */
async function reconcile(): Promise<ReconcileReport> {
  const first = await platform.subgraphs.loans.reconciler.runNow();
  platform.clock.advance(STALE_SECONDS + 1);
  const second = await platform.subgraphs.loans.reconciler.runNow();
  const sum: ReconcileReport = { completed: 0, dropped: 0, compensated: 0, holdsFulfilled: 0, checkedIn: 0, finesSettled: 0, failed: 0 };
  for (const report of [first, second]) {
    for (const key of Object.keys(sum) as (keyof ReconcileReport)[]) sum[key] += report?.[key] ?? 0;
  }
  return sum;
}

describePg('circulation under concurrency and failure (real Postgres)', () => {
  beforeAll(async () => {
    const loans: LoansOptions = { ...dbOptions('loans'), circulation: settings, sagaHooks: hooks };
    platform = await startPlatform({
      clock: new ServiceClock(true),
      subgraphs: { ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, dbOptions(name)])), loans },
      router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
    });
    c = new Circulation(platform);
    admin = await c.person('ADMIN');
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
    await Promise.all(Object.values(databaseNames).map((name) => dropTestDatabase(name)));
  });

  it('lends exactly 3 loans when 200 patrons borrow a 3-copy book at once', async () => {
    const book = await newBook(3);
    const patrons = await Promise.all(Array.from({ length: 200 }, () => c.person()));
    const headers = await Promise.all(patrons.map((p) => c.as(p)));
    const results = await Promise.all(
      headers.map((h) =>
        graphql<{ borrowBook: { id: string } }>(c.url, 'mutation($id: ID!) { borrowBook(bookId: $id) { id } }', { id: book.id }, h),
      ),
    );
    const lent = results.filter((r) => r.data?.borrowBook);
    expect(lent).toHaveLength(3);
    const refused = results.flatMap((r) => codes(r));
    expect(refused).toHaveLength(197);
    expect(new Set(refused)).toEqual(new Set(['BOOK_UNAVAILABLE']));
    expect(await c.availableCopies(book.id)).toBe(0);
    const rows = await platform.subgraphs.loans.database.prisma.loan.findMany({ where: { bookId: book.id } });
    expect(rows.map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(await c.invariantProblems([book.id])).toEqual([]);
  }, 120_000);

  it('keeps a patron racing themselves at the loan limit, and at one loan of a book', async () => {
    const racer = await c.person();
    const titles = await Promise.all(Array.from({ length: 12 }, () => newBook(2)));
    const results = await Promise.all(titles.map((b) => c.borrow(racer, b.id)));
    expect(results.filter((r) => r.data?.borrowBook)).toHaveLength(5);
    expect(results.flatMap((r) => codes(r)).sort()).toEqual(Array(7).fill('LOAN_LIMIT_REACHED'));
    const rows = await c.sagaRows(racer.id);
    expect(rows.filter((r) => r.status === 'ACTIVE')).toHaveLength(5);
    expect(rows).toHaveLength(5);

    const twin = await c.person();
    const same = await newBook(10);
    const twice = await Promise.all(Array.from({ length: 10 }, () => c.borrow(twin, same.id)));
    expect(twice.filter((r) => r.data?.borrowBook)).toHaveLength(1);
    expect(twice.flatMap((r) => codes(r))).toEqual(Array(9).fill('CONFLICT'));
    expect(await c.availableCopies(same.id)).toBe(9);
    expect(await c.invariantProblems([...titles.map((t) => t.id), same.id])).toEqual([]);
  }, 60_000);

  it('finishes a borrow whose process was killed after books lent the copy', async () => {
    const patron = await c.person();
    const book = await newBook(2);
    const { loanId, request } = await borrowUntilCrash('copyAllocated', patron, book.id);
    // Books lent the copy; loans had not recorded it: the invariant is broken until the reconciler runs.
    expect(await c.invariantProblems([book.id])).toEqual(expect.arrayContaining([`loan ${loanId} is still PENDING`]));
    await restartLoans();
    expect((await request).data?.borrowBook ?? null).toBeNull();

    const report = await reconcile();
    expect(report).toMatchObject({ completed: 1, failed: 0 });
    const loan = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loanId } });
    expect(loan.status).toBe('ACTIVE');
    expect(await c.availableCopies(book.id)).toBe(1);
    expect(await c.invariantProblems(books)).toEqual([]);
    // The patron sees it as any other loan, and can return it.
    expect((await c.returnLoan(patron, loanId)).data?.returnLoan.status).toBe('RETURNED');
    expect(await c.availableCopies(book.id)).toBe(2);
  }, 90_000);

  it('finishes a borrow whose process was killed before books was asked', async () => {
    const patron = await c.person();
    const book = await newBook(1);
    const { loanId, request } = await borrowUntilCrash('intentRecorded', patron, book.id);
    expect(await c.availableCopies(book.id)).toBe(1);
    await restartLoans();
    await request;
    expect(await reconcile()).toMatchObject({ completed: 1 });
    const loan = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loanId } });
    expect(loan.status).toBe('ACTIVE');
    expect(await c.availableCopies(book.id)).toBe(0);
    expect(await c.invariantProblems(books)).toEqual([]);
  }, 90_000);

  it('checks in and fines a return whose process was killed right after recording it', async () => {
    const patron = await c.person();
    const book = await newBook(1);
    const loan = (await c.borrow(patron, book.id)).data!.borrowBook;
    platform.clock.advance(16 * 86_400 + 3600); // 2 full days late: 50 cents
    const reached = new Promise<string>((resolve) => {
      crash.reached = resolve;
    });
    crash.step = 'returnRecorded';
    const request = c.returnLoan(patron, loan.id);
    await reached;
    expect(await c.invariantProblems([book.id])).toEqual([expect.stringMatching(/is ON_LOAN to .* which is not an active loan/)]);
    await restartLoans();
    await request;

    expect(await reconcile()).toMatchObject({ checkedIn: 1, finesSettled: 1, failed: 0 });
    expect(await c.invariantProblems(books)).toEqual([]);
    expect(await c.availableCopies(book.id)).toBe(1);
    const fines = await c.call<{ user: { fines: { amountCents: number; loan: { id: string } }[] } }>(
      patron,
      'query($id: ID!) { user(id: $id) { fines { amountCents loan { id } } } }',
      { id: patron.id },
    );
    expect(fines.data?.user.fines).toEqual([{ amountCents: 50, loan: { id: loan.id } }]);
    expect(await reconcile()).toMatchObject({ checkedIn: 0, finesSettled: 0 });
  }, 90_000);

  it('fails a borrow cleanly while books is down, holding nothing, and compensates once it is back', async () => {
    const patron = await c.person();
    const book = await newBook(1);
    const books0 = platform.subgraphs.books;
    await books0.stop();
    try {
      const res = await c.borrow(patron, book.id);
      expect(codes(res)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(res.errors?.[0]?.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|localhost/);
      const rows = await c.sagaRows(patron.id);
      expect(rows.map((r) => [r.status, r.compensatedAt])).toEqual([['CANCELLED', null]]);
    } finally {
      platform.subgraphs.books = await startBooks({ ...sharedOptions(), ...dbOptions('books'), port: books0.port });
    }
    expect(await reconcile()).toMatchObject({ compensated: 1, failed: 0 });
    const again = await c.borrow(patron, book.id);
    expect(again.errors).toBeUndefined();
    expect(await c.invariantProblems(books)).toEqual([]);
  }, 90_000);

  it('returns a loan while payments is down, and assesses the fine once payments is back', async () => {
    const patron = await c.person();
    const book = await newBook(1);
    const loan = (await c.borrow(patron, book.id)).data!.borrowBook;
    platform.clock.advance(14 * 86_400 + 3 * 86_400 + 60); // 3 full days late: 75 cents
    const payments0 = platform.subgraphs.payments;
    await payments0.stop();
    let returned: LoanView;
    try {
      const res = await c.returnLoan(patron, loan.id);
      expect(res.errors).toBeUndefined();
      returned = res.data!.returnLoan;
      expect(returned).toMatchObject({ status: 'RETURNED', fineCents: 75, copy: { status: 'AVAILABLE' } });
      const row = await platform.subgraphs.loans.database.prisma.loan.findUniqueOrThrow({ where: { id: loan.id } });
      expect(row.fineSettledAt).toBeNull();
      const during = await reconcile();
      expect(during.finesSettled).toBe(0);
      expect(during.failed).toBeGreaterThanOrEqual(1);
    } finally {
      platform.subgraphs.payments = await startPayments({ ...sharedOptions(), ...dbOptions('payments'), port: payments0.port });
    }
    expect(await reconcile()).toMatchObject({ finesSettled: 1, failed: 0 });
    expect(await reconcile()).toMatchObject({ finesSettled: 0 });
    const fines = await c.call<{ user: { balanceCents: number; fines: { amountCents: number }[] } }>(
      patron,
      'query($id: ID!) { user(id: $id) { balanceCents fines { amountCents } } }',
      { id: patron.id },
    );
    expect(fines.data?.user).toEqual({ balanceCents: 75, fines: [{ amountCents: 75 }] });
    expect(await c.invariantProblems(books)).toEqual([]);
  }, 90_000);

  it('lets an admin change a policy that the next borrow follows', async () => {
    expect((await c.updatePolicy(admin, 'PATRON', { loanDays: 7 })).errors).toBeUndefined();
    try {
      const patron = await c.person();
      const book = await newBook(1);
      const loan = (await c.borrow(patron, book.id)).data!.borrowBook;
      expect(new Date(loan.dueAt).getTime() - new Date(loan.borrowedAt).getTime()).toBe(7 * 86_400_000);
    } finally {
      await c.updatePolicy(admin, 'PATRON', { loanDays: 14 });
    }
  });
});
