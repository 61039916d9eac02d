import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BOOK_AVAILABILITY_CHANNEL,
  BOOK_AVAILABILITY_STREAM,
  CALLER_HEADER,
  callerCredential,
  createLogger,
  InMemoryBus,
  isBookAvailabilityEvent,
  MutableSubgraphDirectory,
  RedisBus,
  serviceCredential,
  type BookAvailabilityEvent,
  type EventBus,
} from '@shelfwise/kit';
import { start as startReservations, type ReservationsHandle } from '@shelfwise/reservations';
import { eventually, freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { BOOK_AVAILABILITY_CHANGED } from '../src/availability.js';
import { start, type BooksHandle, type BooksOptions } from '../src/server.js';
import { asLibrarian, asPatron, BooksClient, codeOf, nextIsbn, type BookResult } from './harness.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

/** Everything that reached the availability channel, in arrival order. */
async function listen(bus: EventBus) {
  const events: BookAvailabilityEvent[] = [];
  const unsubscribe = await bus.subscribe(BOOK_AVAILABILITY_CHANNEL, (message) => {
    if (isBookAvailabilityEvent(message)) events.push(message);
  });
  return { events, unsubscribe, counts: (bookId: string) => events.filter((e) => e.bookId === bookId).map(countsOf) };
}

const countsOf = (e: { availableCopies: number; totalCopies: number }): [number, number] => [e.availableCopies, e.totalCopies];

/** The outbox rows of a book, in id (commit) order. */
const rowsOf = (books: BooksHandle, bookId: string) =>
  books.database.prisma.bookEvent.findMany({ where: { bookId }, orderBy: { id: 'asc' } });

const ADD_COPIES = 'mutation ($id: ID!, $n: Int!) { addCopies(bookId: $id, count: $n) { id } }';
const WITHDRAW = 'mutation ($id: ID!) { withdrawCopy(copyId: $id) { id status } }';
const MARK_LOST = 'mutation ($id: ID!) { markCopyLost(copyId: $id) { id status } }';
const REMOVE = 'mutation ($id: ID!) { removeBook(id: $id) }';

/** A free TCP port on loopback, for two books instances that must answer at the same address one after the other. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('books outbox: availability events written with the change (PGlite)', () => {
  let folder: string;
  let bus: InMemoryBus;
  const running: { stop(): Promise<void> }[] = [];
  const startBooks = async (options: BooksOptions = {}) => {
    const handle = await start({ dataDir: folder, bus, relayIntervalMs: 0, ...options });
    running.push(handle);
    return handle;
  };
  const stopped = async (handle: { stop(): Promise<void> }) => {
    await handle.stop();
    running.splice(running.indexOf(handle), 1);
  };

  beforeEach(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-books-outbox-'));
    bus = new InMemoryBus();
  });
  afterEach(async () => {
    for (const handle of running.splice(0).reverse()) await handle.stop().catch(() => undefined);
    await bus.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('records one event per change in its transaction, with the counts that change committed', async () => {
    const books = await startBooks({ relayAfterCommit: false });
    const client = new BooksClient(books);
    const live = await listen(bus);

    const book = await client.addBook({ isbn: nextIsbn(70), title: 'Outboxed', authors: ['Ledger'], copies: 3 });
    const loanId = randomUUID();
    expect((await client.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).errors).toBeUndefined();
    expect((await client.checkIn(loanId)).errors).toBeUndefined();
    const holdId = randomUUID();
    expect((await client.allocateForHold(holdId, book.id)).errors).toBeUndefined();
    expect((await client.releaseHold(holdId)).errors).toBeUndefined();
    expect((await client.librarian(ADD_COPIES, { id: book.id, n: 2 })).errors).toBeUndefined();
    const [first, second] = book.copies;
    expect((await client.librarian(MARK_LOST, { id: first!.id })).errors).toBeUndefined();
    expect((await client.librarian(WITHDRAW, { id: first!.id })).errors).toBeUndefined();
    expect((await client.librarian(WITHDRAW, { id: second!.id })).errors).toBeUndefined();
    expect((await client.librarian(REMOVE, { id: book.id })).errors).toBeUndefined();

    const rows = await rowsOf(books, book.id);
    expect(rows.map(countsOf)).toEqual([
      [3, 3], // added
      [2, 3], // lent
      [3, 3], // checked in
      [2, 3], // on the hold shelf
      [3, 3], // the hold let it go
      [5, 5], // two copies added
      [4, 5], // one lost
      [4, 4], // the lost one written off
      [3, 3], // another withdrawn
      [0, 0], // the book removed
    ]);
    expect(rows.every((r) => r.type === BOOK_AVAILABILITY_CHANGED && r.publishedAt === null)).toBe(true);
    // Not relayed (this instance behaves as if it died after each commit): nothing went out.
    expect(await books.outbox.unpublishedEvents()).toBe(10);
    expect(live.events).toHaveLength(0);
  });

  it('writes no event for a change that was refused or changed nothing, and no change without its event', async () => {
    const books = await startBooks({ relayAfterCommit: false });
    const client = new BooksClient(books);
    const book = await client.addBook({ isbn: nextIsbn(71), title: 'Refusals', authors: ['Ledger'], copies: 1 });
    const loanId = randomUUID();
    const lent = await client.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
    const copyId = lent.data!.allocateCopyForLoan.id;
    const before = await books.outbox.unpublishedEvents();
    expect(before).toBe(2);

    // Refused: each one changes nothing, so no event.
    expect(codeOf(await client.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id }))).toBe('BOOK_UNAVAILABLE');
    expect(codeOf(await client.librarian(WITHDRAW, { id: copyId }))).toBe('CONFLICT');
    expect(codeOf(await client.librarian(REMOVE, { id: book.id }))).toBe('CONFLICT');
    expect(
      codeOf(
        await client.call(
          'mutation ($input: AddBookInput!) { addBook(input: $input) { id } }',
          {
            input: { isbn: book.isbn, title: 'Twin', authors: ['Ledger'], copies: 2 },
          },
          asLibrarian(),
        ),
      ),
    ).toBe('CONFLICT');
    // Changed nothing: a repeated keyed call, and a copy already lost.
    expect((await client.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).errors).toBeUndefined();
    expect((await client.librarian(MARK_LOST, { id: copyId })).errors).toBeUndefined();
    expect(await books.outbox.unpublishedEvents()).toBe(before + 1); // the loss
    expect((await client.librarian(MARK_LOST, { id: copyId })).errors).toBeUndefined();
    expect(await books.outbox.unpublishedEvents()).toBe(before + 1);

    // The other way round: when the event cannot be written, the change is rolled back with it.
    await books.database.prisma.$executeRawUnsafe(`ALTER TABLE "BookEvent" ADD CONSTRAINT "test_refuse_events" CHECK (false) NOT VALID`);
    const refused = await client.librarian(ADD_COPIES, { id: book.id, n: 2 });
    expect(refused.errors).toHaveLength(1);
    expect(await books.database.prisma.copy.count({ where: { bookId: book.id } })).toBe(1);
    await books.database.prisma.$executeRawUnsafe(`ALTER TABLE "BookEvent" DROP CONSTRAINT "test_refuse_events"`);
    expect((await client.librarian(ADD_COPIES, { id: book.id, n: 2 })).errors).toBeUndefined();
    expect(await books.database.prisma.copy.count({ where: { bookId: book.id } })).toBe(3);
    expect(await books.outbox.unpublishedEvents()).toBe(before + 2);
  });

  it('relays each event right after its commit, once, in commit order, and marks it published', async () => {
    const books = await startBooks();
    const client = new BooksClient(books);
    const live = await listen(bus);
    const book = await client.addBook({ isbn: nextIsbn(72), title: 'Relayed', authors: ['Ledger'], copies: 2 });
    const loans = [randomUUID(), randomUUID()];
    for (const loanId of loans) await client.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
    for (const loanId of loans) await client.checkIn(loanId);

    await eventually(() => live.events.length >= 5, 5000, 'five availability events');
    expect(live.counts(book.id)).toEqual([
      [2, 2],
      [1, 2],
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    // The exact message shape the router and reservations read, `at` being the change's time.
    const rows = await rowsOf(books, book.id);
    expect(live.events[0]).toEqual({ bookId: book.id, availableCopies: 2, totalCopies: 2, at: rows[0]!.occurredAt.toISOString() });
    expect(rows.every((r) => r.publishedAt !== null)).toBe(true);
    expect(await books.outbox.unpublishedEvents()).toBe(0);
    // Another pass finds nothing: each event went out once.
    expect(await books.relay.runNow()).toBe(0);
    await client.call('{ __typename }'); // a round trip, so that anything published would have arrived
    expect(live.events).toHaveLength(5);
  });

  it('appends each event to the durable stream too, before the channel, so a group that joined earlier reads them all', async () => {
    const books = await startBooks();
    const client = new BooksClient(books);
    const streamed: BookAvailabilityEvent[] = [];
    const stop = await bus.consume(BOOK_AVAILABILITY_STREAM, 'outbox-test', 'outbox-test-1', (message) => {
      if (isBookAvailabilityEvent(message)) streamed.push(message);
    });
    await stop(); // the group exists and has read nothing; events below are appended while nobody reads
    const live = await listen(bus);
    const book = await client.addBook({ isbn: nextIsbn(75), title: 'Streamed', authors: ['Ledger'], copies: 1 });
    expect((await client.librarian(ADD_COPIES, { id: book.id, n: 1 })).errors).toBeUndefined();
    await eventually(() => live.events.length >= 2, 5000, 'two availability events on the channel');

    const again = await bus.consume(BOOK_AVAILABILITY_STREAM, 'outbox-test', 'outbox-test-2', (message) => {
      if (isBookAvailabilityEvent(message)) streamed.push(message);
    });
    await again.settled();
    await again();
    expect(streamed).toEqual(live.events);
    expect(streamed.map(countsOf)).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('announces a book on a service’s request (announceAvailability), with the counts as they are; users are refused', async () => {
    const books = await startBooks();
    const client = new BooksClient(books);
    const live = await listen(bus);
    const book = await client.addBook({ isbn: nextIsbn(76), title: 'Announced', authors: ['Ledger'], copies: 2 });
    const loanId = randomUUID();
    expect((await client.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).errors).toBeUndefined();
    const ANNOUNCE = 'mutation ($id: ID!) { announceAvailability(bookId: $id) }';

    const reservations = { [CALLER_HEADER]: serviceCredential('reservations') };
    const res = await client.call<{ announceAvailability: boolean }>(ANNOUNCE, { id: book.id }, reservations);
    expect(res.errors).toBeUndefined();
    expect(res.data?.announceAvailability).toBe(true);
    await eventually(() => live.counts(book.id).length >= 3, 5000, 'the announcement on the channel');
    expect(live.counts(book.id)).toEqual([
      [2, 2], // added
      [1, 2], // lent
      [1, 2], // announced: nothing moved, the same counts again
    ]);
    expect((await rowsOf(books, book.id)).map((r) => r.type)).toEqual(Array(3).fill(BOOK_AVAILABILITY_CHANGED));
    expect(await books.outbox.unpublishedEvents()).toBe(0);

    // An unknown book: false, nothing written. A malformed id: BAD_USER_INPUT.
    const unknown = await client.call<{ announceAvailability: boolean }>(ANNOUNCE, { id: randomUUID() }, reservations);
    expect(unknown.data?.announceAvailability).toBe(false);
    expect(codeOf(await client.call(ANNOUNCE, { id: 'nope' }, reservations))).toBe('BAD_USER_INPUT');
    // People, staff included, may not call it (and the router does not expose it: @inaccessible).
    expect(codeOf(await client.call(ANNOUNCE, { id: book.id }, asLibrarian()))).toBe('FORBIDDEN');
    expect(codeOf(await client.call(ANNOUNCE, { id: book.id }, asPatron()))).toBe('FORBIDDEN');
    expect(codeOf(await client.call(ANNOUNCE, { id: book.id }, { [CALLER_HEADER]: callerCredential(null) }))).toBe('FORBIDDEN');
    expect(await books.database.prisma.bookEvent.count()).toBe(3);
  });

  it('is relayed by the next instance on the same database when the first died right after its commit', async () => {
    const first = await startBooks({ relayAfterCommit: false });
    const book = await new BooksClient(first).addBook({ isbn: nextIsbn(73), title: 'Survivor', authors: ['Ledger'], copies: 1 });
    expect((await new BooksClient(first).librarian(ADD_COPIES, { id: book.id, n: 2 })).errors).toBeUndefined();
    expect(await first.outbox.unpublishedEvents()).toBe(2);
    await stopped(first);

    const live = await listen(bus);
    const second = await startBooks(); // start() relays what the first left behind before it returns
    expect(await second.outbox.unpublishedEvents()).toBe(0);
    await eventually(() => live.events.length === 2, 5000, 'the two events the first instance committed');
    expect(live.counts(book.id)).toEqual([
      [1, 1],
      [3, 3],
    ]);
    await stopped(second);

    const third = await startBooks();
    expect(await third.relay.runNow()).toBe(0);
    await new BooksClient(third).call('{ __typename }');
    expect(live.events).toHaveLength(2);
  });

  it('reservations hands a copy added just before books died to the first waiting hold, once, whatever is redelivered', async () => {
    // Books answers at one address across its restart, so reservations can reach the new instance.
    const port = await freePort();
    const directory = new MutableSubgraphDirectory();
    directory.set('books', `http://127.0.0.1:${port}/graphql`);
    const first = await startBooks({ port, host: '127.0.0.1', relayAfterCommit: false });
    const book = await new BooksClient(first).addBook({ isbn: nextIsbn(74), title: 'Awaited', authors: ['Ledger'], copies: 0 });
    const reservations: ReservationsHandle = await startReservations({
      bus,
      services: directory,
      holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 },
      activeLoans: { hasActiveLoan: () => Promise.resolve(false) },
      logger: createLogger('reservations-test', 'silent'),
    });
    running.push(reservations);
    const holdA = await reservations.reservations.create({ userId: randomUUID(), bookId: book.id });
    const holdB = await reservations.reservations.create({ userId: randomUUID(), bookId: book.id });
    const status = async (id: string) => (await reservations.database.prisma.reservation.findUniqueOrThrow({ where: { id } })).status;

    // A copy arrives; books dies before relaying its event, so nobody hears of it yet.
    expect((await new BooksClient(first).librarian(ADD_COPIES, { id: book.id, n: 1 })).errors).toBeUndefined();
    await stopped(first);
    expect(await status(holdA.id)).toBe('WAITING');

    const live = await listen(bus);
    const second = await startBooks({ port, host: '127.0.0.1' });
    await eventually(async () => (await status(holdA.id)) === 'READY', 10_000, 'the first hold READY with the new copy');
    const copies = await second.database.prisma.copy.findMany({ where: { bookId: book.id } });
    expect(copies.map((c) => [c.status, c.reservationId])).toEqual([['ON_HOLD_SHELF', holdA.id]]);
    expect(await status(holdB.id)).toBe('WAITING');

    // At-least-once: the same event again (a relay that died before marking it) hands nothing more out.
    // Each offer to the queue records a handoff: the one that gave A the copy, then one for B that found no
    // free copy and moved nothing; the repeated event makes one more of the latter.
    const handoffs = () => reservations.database.prisma.handoff.findMany({ where: { bookId: book.id } });
    const settledAt = async (count: number) => {
      const rows = await handoffs();
      return rows.length === count && rows.every((h) => h.state !== 'PENDING');
    };
    await eventually(() => settledAt(2), 10_000, 'the first offer finished');
    const arrived = live.events.find((e) => e.bookId === book.id && e.availableCopies > 0);
    expect(arrived && countsOf(arrived)).toEqual([1, 1]);
    await bus.append(BOOK_AVAILABILITY_STREAM, arrived);
    await eventually(() => settledAt(3), 10_000, 'the repeated event handled');
    expect((await handoffs()).filter((h) => h.copyId !== null).map((h) => h.toReservation)).toEqual([holdA.id]);
    expect(await status(holdA.id)).toBe('READY');
    expect(await status(holdB.id)).toBe('WAITING');
    const after = await second.database.prisma.copy.findMany({ where: { bookId: book.id } });
    expect(after.map((c) => [c.status, c.reservationId])).toEqual([['ON_HOLD_SHELF', holdA.id]]);
    expect(await reservations.database.prisma.reservationEvent.count({ where: { type: 'RESERVATION_READY', bookId: book.id } })).toBe(1);
  });

  it('prunes published events older than the retention, never unpublished ones', async () => {
    const books = await startBooks({ relayAfterCommit: false });
    const client = new BooksClient(books);
    const book: BookResult = await client.addBook({ isbn: nextIsbn(75), title: 'Pruned', authors: ['Ledger'], copies: 1 });
    await client.librarian(ADD_COPIES, { id: book.id, n: 1 });
    expect(await books.outbox.prune(new Date(Date.now() + 60_000))).toBe(0); // unpublished: kept
    expect(await books.relay.runNow()).toBe(2);
    await client.librarian(ADD_COPIES, { id: book.id, n: 1 });
    const published = (await rowsOf(books, book.id)).filter((r) => r.publishedAt !== null);
    expect(await books.outbox.prune(new Date(published.at(-1)!.publishedAt!.getTime() + 1))).toBe(2);
    expect((await rowsOf(books, book.id)).map(countsOf)).toEqual([[3, 3]]);
  });
});

/**
 * The bus refusing (Redis unreachable): the command stands, its event waits in the outbox, and the relay's
 * timer sends it once the bus is back — over the in-process bus and over Redis.
 */
function refusedPublishSuite(name: string, transport: () => { bus: () => EventBus; cleanup: () => Promise<void> }) {
  describe(`books outbox: a publish the bus refuses is retried (${name})`, () => {
    let env: ReturnType<typeof transport>;
    const buses: EventBus[] = [];
    let books: BooksHandle | undefined;
    const busFor = () => {
      const bus = env.bus();
      buses.push(bus);
      return bus;
    };
    beforeEach(() => {
      env = transport();
    });
    afterEach(async () => {
      await books?.stop();
      await Promise.all([...new Set(buses.splice(0))].map((bus) => bus.dispose()));
      await env.cleanup();
    });

    it('keeps the event until the bus takes it, then sends it once; the command is not failed', async () => {
      const bus = busFor();
      let down = true;
      let refused = 0;
      const flaky: EventBus = Object.assign(Object.create(bus) as EventBus, {
        publish: (channel: string, message: unknown) => {
          if (down) {
            refused += 1;
            return Promise.reject(new Error('bus unreachable'));
          }
          return bus.publish(channel, message);
        },
      });
      const live = await listen(busFor());
      books = await start({ bus: flaky, relayIntervalMs: 50, logger: createLogger('books-test', 'silent') });
      const client = new BooksClient(books);
      const book = await client.addBook({ isbn: nextIsbn(76), title: 'Patient', authors: ['Ledger'], copies: 2 });
      expect(book.totalCopies).toBe(2);
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(await books.outbox.unpublishedEvents()).toBe(1);

      down = false;
      await eventually(async () => (await books!.outbox.unpublishedEvents()) === 0, 10_000, 'the timer relaying the event');
      await eventually(() => live.events.length === 1, 5000, 'the event on the channel');
      expect(live.counts(book.id)).toEqual([[2, 2]]);
      // Later passes send nothing again.
      expect(await books.relay.runNow()).toBe(0);
      await client.call('{ __typename }');
      expect(live.events).toHaveLength(1);
    });
  });
}

refusedPublishSuite('in-process bus', () => {
  const bus = new InMemoryBus();
  return { bus: () => bus, cleanup: () => bus.dispose() };
});

describeRedis('books outbox over Redis', () => {
  refusedPublishSuite('Redis pub/sub', () => {
    const prefix = freshRedisPrefix('books-outbox');
    return {
      bus: () => new RedisBus({ url: TEST_REDIS_URL, prefix }),
      cleanup: async () => {
        const admin = new Redis(TEST_REDIS_URL);
        const keys = await admin.keys(`${prefix}:*`);
        if (keys.length > 0) await admin.del(...keys);
        await admin.quit();
      },
    };
  });
});
