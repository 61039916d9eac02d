/**
 * The race of the holds issue on real Postgres (PGlite is one connection, so a race there proves
 * nothing): a copy returned while a hold waits and a walk-in borrower asking for the same book at the same
 * moment — the hold always wins, over many rounds.
 */
import { SUBGRAPH_NAMES, ServiceClock, type SubgraphName } from '@shelfwise/kit';
import type { LoansOptions } from '@shelfwise/loans';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import { Circulation, codes } from './circulationKit.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

const START_TIMEOUT_MS = 240_000;
const ROUNDS = 8;
const databaseNames = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, freshDatabaseName(`holdrace_${name}`)])) as Record<
  SubgraphName,
  string
>;
const dbOptions = (name: SubgraphName) => ({ databaseUrl: TEST_DATABASE_URL, databaseName: databaseNames[name] });

let platform: Platform;
let c: Circulation;

describePg('a return racing a walk-in borrow (real Postgres)', () => {
  beforeAll(async () => {
    const loans: LoansOptions = { ...dbOptions('loans'), circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: 60_000 } };
    platform = await startPlatform({
      clock: new ServiceClock(true),
      subgraphs: { ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, dbOptions(name)])), loans },
      router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
    });
    c = new Circulation(platform);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
    await Promise.all(Object.values(databaseNames).map((name) => dropTestDatabase(name)));
  });

  it('gives the returned copy to the waiting hold every time, never to the walk-in', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const [borrower, holder, ...walkIns] = await Promise.all([c.person(), c.person(), c.person(), c.person(), c.person(), c.person()]);
      const book = await c.book(1);
      const lent = await c.borrow(borrower, book.id);
      expect(lent.errors).toBeUndefined();
      const hold = await c.call<{ reserveBook: { id: string } }>(holder, 'mutation($id: ID!) { reserveBook(bookId: $id) { id } }', {
        id: book.id,
      });
      expect(hold.errors).toBeUndefined();

      // The return and four walk-in borrowers at once.
      const [back, ...tries] = await Promise.all([
        c.returnLoan(borrower, lent.data!.borrowBook.id),
        ...walkIns.map((walkIn) => c.borrow(walkIn, book.id)),
      ]);
      expect(back.errors).toBeUndefined();
      for (const attempt of tries) expect(codes(attempt)).toEqual(['BOOK_UNAVAILABLE']);
      expect(back.data!.returnLoan.copy.status).toBe('ON_HOLD_SHELF');

      // The holder gets it.
      const taken = await c.borrow(holder, book.id);
      expect(taken.errors).toBeUndefined();
      expect(await c.invariantProblems([book.id])).toEqual([]);
    }
  });
});
