import { randomUUID } from 'node:crypto';
import { BOOK_AVAILABILITY_CHANNEL, InMemoryBus, isBookAvailabilityEvent, type BookAvailabilityEvent } from '@shelfwise/kit';
import { dropTestDatabase, eventually, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { start, type BooksHandle } from '../src/server.js';
import { BooksClient, nextIsbn } from './harness.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

/**
 * The outbox under concurrency, on real Postgres (PGlite runs one statement at a time, so it cannot race):
 * the counts each event carries follow commit order, and two instances relaying one outbox at once send
 * each event once.
 */
describePg('books outbox under concurrency (real Postgres)', () => {
  const databaseName = freshDatabaseName('books_outbox');
  const bus = new InMemoryBus();
  const events: BookAvailabilityEvent[] = [];
  let a: BooksHandle;
  let b: BooksHandle;

  beforeAll(async () => {
    const options = { databaseUrl: TEST_DATABASE_URL, databaseName, bus, relayIntervalMs: 0 };
    a = await start({ ...options, relayAfterCommit: false });
    b = await start({ ...options, relayAfterCommit: false });
    await bus.subscribe(BOOK_AVAILABILITY_CHANNEL, (message) => {
      if (isBookAvailabilityEvent(message)) events.push(message);
    });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await bus.dispose();
    await dropTestDatabase(databaseName);
  });

  it('gives every one of 20 concurrent loans an event with the count it committed, none stale', async () => {
    const clientA = new BooksClient(a);
    const clientB = new BooksClient(b);
    const book = await clientA.addBook({ isbn: nextIsbn(80), title: 'Rush', authors: ['Crowd'], copies: 20 });
    // Twenty loans at once through both instances: each takes a different copy.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? clientA : clientB).allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id }),
      ),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const rows = await a.database.prisma.bookEvent.findMany({ where: { bookId: book.id }, orderBy: { id: 'asc' } });
    // In commit order each loan leaves one copy fewer: a count read without the others' commits would repeat.
    expect(rows.map((r) => r.availableCopies)).toEqual(Array.from({ length: 21 }, (_, i) => 20 - i));
    expect(rows.every((r) => r.totalCopies === 20)).toBe(true);
    expect(rows.map((r) => r.occurredAt.getTime())).toEqual(rows.map((r) => r.occurredAt.getTime()).sort((x, y) => x - y));
  });

  it('sends each event once when two instances relay the same outbox at the same time', async () => {
    const client = new BooksClient(a);
    const book = await client.addBook({ isbn: nextIsbn(81), title: 'Twice Relayed', authors: ['Crowd'], copies: 1 });
    for (let i = 0; i < 30; i += 1)
      await client.librarian('mutation ($id: ID!) { addCopies(bookId: $id, count: 1) { id } }', { id: book.id });
    const pending = await a.outbox.unpublishedEvents();
    expect(pending).toBeGreaterThanOrEqual(31);
    events.length = 0;

    const sent = await Promise.all([a.relay.runNow(), b.relay.runNow(), a.relay.runNow(), b.relay.runNow()]);
    expect(sent[0]! + sent[1]! + sent[2]! + sent[3]!).toBe(pending);
    expect(await a.outbox.unpublishedEvents()).toBe(0);
    await eventually(() => events.length === pending, 5000, 'every event on the channel');
    const mine = events.filter((e) => e.bookId === book.id).map((e) => e.totalCopies);
    expect(new Set(mine).size).toBe(mine.length); // 1, 2 … 31 copies: none twice
    expect(mine.sort((x, y) => x - y)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    await client.call('{ __typename }');
    expect(events).toHaveLength(pending);
  });
});
