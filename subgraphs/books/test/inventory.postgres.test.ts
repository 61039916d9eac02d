import { randomUUID } from 'node:crypto';
import { InMemoryBus } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { start, type BooksHandle } from '../src/server.js';
import { BooksClient, codeOf, nextIsbn, recordAvailability } from './harness.js';
import { describeInventory } from './inventorySuite.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

const suiteDatabase = freshDatabaseName('books_inventory');
describeInventory(
  'books inventory operations (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName: suiteDatabase }),
  () => dropTestDatabase(suiteDatabase),
);

describePg('books inventory under concurrency (real Postgres)', () => {
  const databaseName = freshDatabaseName('books_race');
  const bus = new InMemoryBus();
  let handle: BooksHandle;
  let books: BooksClient;
  let availability: Awaited<ReturnType<typeof recordAvailability>>;

  beforeAll(async () => {
    handle = await start({ databaseUrl: TEST_DATABASE_URL, databaseName, bus });
    books = new BooksClient(handle);
    availability = await recordAvailability(bus);
  });
  afterAll(async () => {
    await handle?.stop();
    await bus.dispose();
    await dropTestDatabase(databaseName);
  });

  it("gives a book's last copy to exactly one of 50 concurrent loans; the others hear BOOK_UNAVAILABLE", async () => {
    const book = await books.addBook({ isbn: nextIsbn(30), title: 'Last Copy', authors: ['Scarce'], copies: 2 });
    // One copy is already out: one is left for fifty patrons.
    await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id });
    expect(await books.expectCountsAgree(book.id)).toEqual([2, 1]);

    // Counts sampled while the requests run never go below zero.
    const samples: number[] = [];
    let racing = true;
    const sampler = (async () => {
      while (racing) {
        samples.push((await books.counts(book.id)).api[1]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id })),
    );
    racing = false;
    await sampler;

    const winners = results.filter((r) => !r.errors);
    const losers = results.filter((r) => r.errors);
    expect(winners).toHaveLength(1);
    expect(losers.map(codeOf)).toEqual(Array(49).fill('BOOK_UNAVAILABLE'));
    expect(await books.expectCountsAgree(book.id)).toEqual([2, 0]);
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    const copies = await handle.database.prisma.copy.findMany({ where: { bookId: book.id } });
    expect(copies.map((c) => c.status)).toEqual(['ON_LOAN', 'ON_LOAN']);
    expect(new Set(copies.map((c) => c.loanId)).size).toBe(2);
    expect(await handle.database.prisma.copyAllocation.count({ where: { bookId: book.id } })).toBe(2);
    // Every availability event carried counts that were possible.
    expect(availability.forBook(book.id).every((e) => e.availableCopies >= 0 && e.availableCopies <= e.totalCopies)).toBe(true);
  });

  it('spreads 30 concurrent loans over 3 free copies: three winners, three different copies', async () => {
    const book = await books.addBook({ isbn: nextIsbn(31), title: 'Three Copies', authors: ['Scarce'], copies: 3 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id })),
    );
    const won = results.filter((r) => !r.errors).map((r) => r.data!.allocateCopyForLoan.id);
    expect(won).toHaveLength(3);
    expect(new Set(won).size).toBe(3);
    expect(results.filter((r) => r.errors).map(codeOf)).toEqual(Array(27).fill('BOOK_UNAVAILABLE'));
    expect(await books.expectCountsAgree(book.id)).toEqual([3, 0]);
  });

  it('answers 20 concurrent identical requests (one loan id) with one allocation and the same copy', async () => {
    const book = await books.addBook({ isbn: nextIsbn(32), title: 'Retried', authors: ['Saga'], copies: 5 });
    const request = { loanId: randomUUID(), userId: randomUUID(), bookId: book.id };
    const results = await Promise.all(Array.from({ length: 20 }, () => books.allocateForLoan(request)));
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(new Set(results.map((r) => r.data!.allocateCopyForLoan.id)).size).toBe(1);
    expect(await handle.database.prisma.copyAllocation.count({ where: { key: request.loanId } })).toBe(1);
    expect(await handle.database.prisma.copy.count({ where: { bookId: book.id, status: 'ON_LOAN' } })).toBe(1);
    expect(await books.expectCountsAgree(book.id)).toEqual([5, 4]);
  });

  it('keeps one hold per reservation under 20 concurrent identical requests, and check-in / cancel repeats collapse too', async () => {
    const book = await books.addBook({ isbn: nextIsbn(33), title: 'Held', authors: ['Saga'], copies: 4 });
    const reservation = randomUUID();
    const holds = await Promise.all(Array.from({ length: 20 }, () => books.allocateForHold(reservation, book.id)));
    expect(holds.filter((r) => r.errors)).toEqual([]);
    expect(new Set(holds.map((r) => r.data!.allocateCopyForHold!.id)).size).toBe(1);
    expect(await books.expectCountsAgree(book.id)).toEqual([4, 3]);

    const loanId = randomUUID();
    await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
    const checkIns = await Promise.all(Array.from({ length: 10 }, () => books.checkIn(loanId)));
    expect(checkIns.filter((r) => r.errors)).toEqual([]);
    expect(new Set(checkIns.map((r) => r.data!.checkInLoanCopy.status))).toEqual(new Set(['AVAILABLE']));
    expect(await books.expectCountsAgree(book.id)).toEqual([4, 3]);
  });

  it('never lets a removal and an allocation both win', async () => {
    const book = await books.addBook({ isbn: nextIsbn(34), title: 'Contested', authors: ['Race'], copies: 1 });
    const [allocation, removal] = await Promise.all([
      books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id }),
      books.librarian<{ removeBook: boolean }>('mutation ($id: ID!) { removeBook(id: $id) }', { id: book.id }),
    ]);
    const copy = await handle.database.prisma.copy.findFirstOrThrow({ where: { bookId: book.id } });
    const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id } });
    if (allocation.errors) {
      // The removal went first: the allocation found the book removed or its copy withdrawn.
      expect(codeOf(allocation)).toBe('BOOK_UNAVAILABLE');
      expect([removal.data?.removeBook, copy.status, row.withdrawnAt !== null]).toEqual([true, 'WITHDRAWN', true]);
    } else {
      expect(codeOf(removal)).toBe('CONFLICT');
      expect([copy.status, row.withdrawnAt]).toEqual(['ON_LOAN', null]);
    }
  });
});
