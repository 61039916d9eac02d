/**
 * `Book.holdQueueLength` live (#9), on the whole platform (PGlite, in-process bus), through the router:
 * placing or cancelling a hold moves no copy, so books has nothing to announce by itself; reservations asks
 * it to (its internal `announceAvailability`) once the change committed, and a `bookAvailabilityChanged`
 * watcher gets a frame with the new queue length. The internal operation is for services only.
 */
import {
  BOOK_AVAILABILITY_CHANNEL,
  CALLER_HEADER,
  callerCredential,
  isBookAvailabilityEvent,
  ServiceClock,
  type BookAvailabilityEvent,
} from '@shelfwise/kit';
import type { ReservationsOptions } from '@shelfwise/reservations';
import { eventually, graphql } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import type { Person } from './circulationKit.js';
import { DAY, frames, Live, type Availability } from './liveKit.js';
import { subscribe, type Subscription } from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;

/** Only the queue: what the web app's "n people waiting" reads. */
const QUEUE = `
  subscription Queue($ids: [ID!]!) {
    bookAvailabilityChanged(bookIds: $ids) { bookId availableCopies book { holdQueueLength } }
  }
`;
type QueueFrame = Pick<Availability['bookAvailabilityChanged'], 'bookId' | 'availableCopies'> & {
  book: { holdQueueLength: number } | null;
};

let platform: Platform;
let live: Live;
let librarian: Person;
/** Every availability event books published, in order. */
const published: BookAvailabilityEvent[] = [];
const stats = () => platform.router.subscriptionStats();

/** Waits for the `count`-th event about the book and its frame; exactly that many of each. */
async function nth(watch: Subscription<{ bookAvailabilityChanged: QueueFrame }>, bookId: string, count: number, what: string) {
  const about = () => published.filter((e) => e.bookId === bookId);
  await eventually(() => about().length >= count, 10_000, `books to announce ${what}`);
  await frames(watch, count, `the watcher to receive ${what}`);
  expect(about()).toHaveLength(count);
  expect(watch.results).toHaveLength(count);
  const frame = watch.results[count - 1]!;
  expect(frame.errors).toBeUndefined();
  return frame.data!.bookAvailabilityChanged;
}

beforeAll(async () => {
  const reservations: ReservationsOptions = { holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 } };
  // The test clock: the expiry scan runs when the test says, after the clock passed the pickup time.
  platform = await startPlatform({
    clock: new ServiceClock(true),
    subgraphs: { reservations },
    router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
  });
  live = new Live(platform);
  await platform.bus.subscribe(BOOK_AVAILABILITY_CHANNEL, (message) => {
    if (isBookAvailabilityEvent(message)) published.push(message);
  });
  librarian = await live.person('LIBRARIAN');
}, START_TIMEOUT_MS);

afterEach(async () => {
  await live.closeSockets();
  await eventually(() => stats().connections === 0 && stats().subscribers === 0, 5000, 'every socket to close');
});

afterAll(async () => {
  await live?.close();
  await platform?.stop();
});

describe('Book.holdQueueLength in bookAvailabilityChanged', () => {
  it('changes live when a hold is placed, cancelled, or leaves the queue with a returned copy', async () => {
    const [alice, bob, carol] = await Promise.all([live.person(), live.person(), live.person()]);
    const book = await live.book(1);
    const lent = await live.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    await eventually(() => published.some((e) => e.bookId === book.id && e.availableCopies === 0), 10_000, 'the borrow announced');
    published.splice(0);

    const watch = subscribe<{ bookAvailabilityChanged: QueueFrame }>(await live.connectAs(null), QUEUE, { ids: [book.id] });
    await eventually(() => stats().subscribers === 1);

    // Bob queues: no copy moved, yet the watcher sees one person waiting.
    const bobs = await live.reserve(bob, book.id);
    expect(bobs.data?.reserveBook).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await nth(watch, book.id, 1, 'Bob’s hold')).toEqual({ bookId: book.id, availableCopies: 0, book: { holdQueueLength: 1 } });

    // Carol queues behind him: two.
    expect((await live.reserve(carol, book.id)).data?.reserveBook).toMatchObject({ status: 'WAITING', position: 2 });
    expect(await nth(watch, book.id, 2, 'Carol’s hold')).toEqual({ bookId: book.id, availableCopies: 0, book: { holdQueueLength: 2 } });

    // Bob changes his mind: one again.
    const cancelled = await live.cancel(bob, bobs.data!.reserveBook.id);
    expect(cancelled.data?.cancelReservation.status).toBe('CANCELLED');
    expect(await nth(watch, book.id, 3, 'Bob’s cancellation')).toEqual({
      bookId: book.id,
      availableCopies: 0,
      book: { holdQueueLength: 1 },
    });

    // Alice's copy comes back onto Carol's hold shelf: books announces the check-in, reservations the
    // queue Carol left; the last frame shows nobody waiting.
    expect((await live.returnLoan(alice, lent.data!.borrowBook.id)).data?.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    expect(await nth(watch, book.id, 5, 'the return to Carol’s hold')).toEqual({
      bookId: book.id,
      availableCopies: 0,
      book: { holdQueueLength: 0 },
    });
    expect(watch.error).toBeUndefined();
    expect(await live.invariantProblems([book.id])).toEqual([]);
  });

  it('changes live when a READY hold expires and its copy goes to the next in line', async () => {
    const [alice, carol, dave] = await Promise.all([live.person(), live.person(), live.person()]);
    const book = await live.book(1);
    const lent = await live.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    const carols = (await live.reserve(carol, book.id)).data!.reserveBook;
    const daves = (await live.reserve(dave, book.id)).data!.reserveBook;
    expect((await live.returnLoan(alice, lent.data!.borrowBook.id)).data?.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    await eventually(async () => (await live.mine(carol))[0]?.status === 'READY', 10_000, 'Carol’s hold to be READY');
    // Everything announced so far (the borrow, two holds, the return, the queue without Carol) has gone out.
    await eventually(() => published.filter((e) => e.bookId === book.id).length >= 5, 10_000, 'the return announced');
    published.splice(0);

    const watch = subscribe<{ bookAvailabilityChanged: QueueFrame }>(await live.connectAs(null), QUEUE, { ids: [book.id] });
    await eventually(() => stats().subscribers === 1);
    // Carol never collects: past her pickup time the scan expires her hold and hands the copy to Dave. The
    // copy stays on the hold shelf (books announces the move, no count changes), then reservations
    // announces the queue without Dave.
    platform.clock.advance(30 * DAY);
    expect((await platform.subgraphs.reservations.scanOnce())?.expired).toBeGreaterThanOrEqual(1);
    expect(await nth(watch, book.id, 2, 'the expiry')).toEqual({ bookId: book.id, availableCopies: 0, book: { holdQueueLength: 0 } });
    expect(
      (
        await live.holdsOf([
          [carol, carols.id],
          [dave, daves.id],
        ])
      ).map((h) => h.status),
    ).toEqual(['EXPIRED', 'READY']);
    expect(await live.invariantProblems([book.id])).toEqual([]);
  });

  it('keeps announceAvailability internal: absent from the public graph, refused to people', async () => {
    const book = await live.book(1);
    const ANNOUNCE = 'mutation($id: ID!) { announceAvailability(bookId: $id) }';
    // Through the router the field does not exist (@inaccessible), whoever asks.
    const routed = await live.call(librarian, ANNOUNCE, { id: book.id });
    expect(routed.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // Straight to books with a person's credential, staff included: FORBIDDEN, and nothing is announced.
    const before = published.filter((e) => e.bookId === book.id).length;
    for (const role of ['LIBRARIAN', 'ADMIN', 'PATRON'] as const) {
      const direct = await graphql(
        platform.subgraphs.books.url,
        ANNOUNCE,
        { id: book.id },
        {
          [CALLER_HEADER]: callerCredential({ userId: librarian.id, role }),
        },
      );
      expect(direct.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(await platform.subgraphs.books.outbox.unpublishedEvents()).toBe(0);
    expect(published.filter((e) => e.bookId === book.id)).toHaveLength(before);
  });
});
