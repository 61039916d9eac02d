/**
 * Live updates end to end (#9) on the whole platform (PGlite, in-process bus), every change made through
 * the router over HTTP and every push read from a graphql-ws socket: a borrow reaches the book's watchers
 * with fields from books, reviews and reservations; a returned copy tells the first waiting holder their
 * hold is ready; the test clock makes a loan due soon, then overdue, and both reach the patron's socket and
 * inbox; and nobody ever receives someone else's notification.
 */
import { BOOK_AVAILABILITY_CHANNEL, isBookAvailabilityEvent, ServiceClock, type BookAvailabilityEvent } from '@shelfwise/kit';
import type { LoansOptions } from '@shelfwise/loans';
import type { ReservationsOptions } from '@shelfwise/reservations';
import { eventually } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import type { Person } from './circulationKit.js';
import { DAY, frames, Live, received, type Availability } from './liveKit.js';
import type { Subscription } from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;

let platform: Platform;
let live: Live;
let admin: Person;
let librarian: Person;
/** Every availability event books published, in order. */
const published: BookAvailabilityEvent[] = [];

const stats = () => platform.router.subscriptionStats();
/** `n` new patrons, as a tuple. */
function people(n: 3): Promise<[Person, Person, Person]>;
function people(n: 6): Promise<[Person, Person, Person, Person, Person, Person]>;
function people(n: number): Promise<Person[]> {
  return Promise.all(Array.from({ length: n }, () => live.person()));
}

/**
 * Waits until the watcher has had one frame for each event books published about the book (the frames
 * of one group keep the order of the events), and returns the frames.
 */
async function caughtUp(watch: Subscription<Availability>, bookId: string, events: number, what: string) {
  const about = () => published.filter((e) => e.bookId === bookId);
  await eventually(() => about().length >= events, 10_000, `books to announce ${what}`);
  await frames(watch, events, `the watcher to receive ${what}`);
  // Nothing more than one frame per event (a second copy would already be here: frames keep their order).
  expect(about()).toHaveLength(events);
  expect(watch.results).toHaveLength(events);
  expect(watch.results.map((r) => r.data?.bookAvailabilityChanged.availableCopies)).toEqual(about().map((e) => e.availableCopies));
  return watch.results;
}

beforeAll(async () => {
  // No background timers: the test runs the due-date scanner itself, on the test clock.
  const loans: LoansOptions = { circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: 60_000 } };
  const reservations: ReservationsOptions = { holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 } };
  platform = await startPlatform({
    clock: new ServiceClock(true),
    subgraphs: { loans, reservations },
    router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
  });
  live = new Live(platform);
  await live.listen();
  await platform.bus.subscribe(BOOK_AVAILABILITY_CHANNEL, (message) => {
    if (isBookAvailabilityEvent(message)) published.push(message);
  });
  [admin, librarian] = await Promise.all([live.person('ADMIN'), live.person('LIBRARIAN')]);
}, START_TIMEOUT_MS);

afterEach(async () => {
  await live.closeSockets();
  await eventually(() => stats().connections === 0 && stats().subscribers === 0, 5000, 'every socket to close');
});

afterAll(async () => {
  await live?.close();
  await platform?.stop();
});

describe('bookAvailabilityChanged after real circulation', () => {
  it('pushes a patron’s borrow to the book’s watcher, with fields from books, reviews and reservations', async () => {
    const [alice, bob, carol, dave, rita, rex] = await people(6);
    const book = await live.book(2);
    const title = await live.titleOf(book.id);
    // Two reviews written beforehand, through the router.
    await live.writeReview(rita, book.id, 4);
    await live.writeReview(rex, book.id, 5);

    const watch = await live.watchAvailability(null, [book.id]);
    await eventually(() => stats().subscribers === 1);

    // Alice borrows one of the two copies. The borrow itself costs the router one loans fetch; the frame
    // costs one query through the gateway, which fetches from books, reviews and reservations once each.
    platform.router.resetFetchCounts();
    const before = stats();
    const lent = await live.call<{ borrowBook: { id: string } }>(alice, 'mutation($id: ID!) { borrowBook(bookId: $id) { id } }', {
      id: book.id,
    });
    expect(lent.errors).toBeUndefined();
    const [first] = await caughtUp(watch, book.id, 1, 'Alice’s borrow');
    expect(first).toEqual({
      data: {
        bookAvailabilityChanged: {
          bookId: book.id,
          availableCopies: 1,
          totalCopies: 2,
          book: { title, averageRating: 4.5, reviewCount: 2, holdQueueLength: 0 },
        },
      },
    });
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(1);
    expect(stats().framesSent - before.framesSent).toBe(1);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({ loans: 1, books: 1, reviews: 1, reservations: 1 });

    // Bob takes the last copy; Carol and Dave queue for the book.
    expect((await live.borrow(bob, book.id)).errors).toBeUndefined();
    const second = (await caughtUp(watch, book.id, 2, 'Bob’s borrow'))[1];
    expect(second?.data?.bookAvailabilityChanged).toMatchObject({ availableCopies: 0, totalCopies: 2, book: { holdQueueLength: 0 } });
    // Each hold placed is announced too (no copy moved, but the queue grew).
    expect((await live.reserve(carol, book.id)).data?.reserveBook).toMatchObject({ status: 'WAITING', position: 1 });
    const third = (await caughtUp(watch, book.id, 3, 'Carol’s hold'))[2];
    expect(third?.data?.bookAvailabilityChanged).toMatchObject({ availableCopies: 0, book: { holdQueueLength: 1 } });
    expect((await live.reserve(dave, book.id)).data?.reserveBook).toMatchObject({ status: 'WAITING', position: 2 });
    const fourth = (await caughtUp(watch, book.id, 4, 'Dave’s hold'))[3];
    expect(fourth?.data?.bookAvailabilityChanged).toMatchObject({ availableCopies: 0, book: { holdQueueLength: 2 } });

    // Alice's copy comes back onto Carol's hold shelf, not the open shelf: still none available. Books
    // announces the check-in, then reservations the queue without Carol.
    const back = await live.returnLoan(alice, lent.data!.borrowBook.id);
    expect(back.data?.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    await caughtUp(watch, book.id, 6, 'the return to the hold shelf');
    expect(watch.results[4]?.data?.bookAvailabilityChanged.availableCopies).toBe(0);
    expect(watch.results[5]?.data?.bookAvailabilityChanged).toMatchObject({ availableCopies: 0, book: { holdQueueLength: 1 } });
    await eventually(async () => (await live.mine(carol))[0]?.status === 'READY', 10_000, 'Carol’s hold to be READY');

    // Carol borrows her copy (books announces the loan, reservations the fulfilled hold): the frames show
    // Dave still waiting.
    expect((await live.borrow(carol, book.id)).errors).toBeUndefined();
    const carols = (await caughtUp(watch, book.id, 8, 'Carol’s borrow')).slice(6);
    expect(carols[0]?.data?.bookAvailabilityChanged).toMatchObject({ availableCopies: 0, book: { holdQueueLength: 1 } });
    expect(carols[1]).toEqual({
      data: {
        bookAvailabilityChanged: {
          bookId: book.id,
          availableCopies: 0,
          totalCopies: 2,
          book: { title, averageRating: 4.5, reviewCount: 2, holdQueueLength: 1 },
        },
      },
    });
    expect(watch.error).toBeUndefined();
    expect(await live.invariantProblems([book.id])).toEqual([]);
  });
});

describe('notificationReceived after real circulation', () => {
  it('tells the first waiting holder their hold is ready when a copy comes back, live and in their inbox', async () => {
    const [alex, hana, ivo] = await people(3);
    const book = await live.book(1);
    const title = await live.titleOf(book.id);
    const hanaWatch = await live.watchNotifications(hana);
    await eventually(() => stats().subscribers === 1);

    const lent = await live.borrow(alex, book.id);
    expect(lent.errors).toBeUndefined();
    const hold = (await live.reserve(hana, book.id)).data!.reserveBook;
    expect(hold).toMatchObject({ status: 'WAITING', position: 1 });
    expect((await live.reserve(ivo, book.id)).data?.reserveBook).toMatchObject({ status: 'WAITING', position: 2 });

    expect((await live.returnLoan(alex, lent.data!.borrowBook.id)).data?.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    await frames(hanaWatch, 1, 'Hana to be told her hold is ready');
    const [ready] = received(hanaWatch);
    expect(ready).toEqual({
      id: expect.any(String),
      kind: 'RESERVATION_READY',
      message: expect.stringContaining('is ready for pickup at the library desk'),
      loan: null,
      book: { title },
      reservation: { id: hold.id, status: 'READY' },
    });
    expect(ready!.message).toContain(title);

    const inbox = await live.inbox(hana);
    expect(inbox.unreadNotificationCount).toBe(1);
    expect(inbox.notifications.edges.map((e) => e.node)).toEqual([{ ...ready, readAt: null }]);
    // One event, one notification: the second in line heard nothing.
    expect(live.events.filter((e) => e.type === 'RESERVATION_READY' && e.reservationId === hold.id)).toHaveLength(1);
    expect((await live.inbox(ivo)).notifications.totalCount).toBe(0);
    expect(hanaWatch.results).toHaveLength(1);
  });

  it('never gives a patron another patron’s notification, nor a librarian any', async () => {
    const [alex, pat, quinn] = await people(3);
    const book = await live.book(1);
    const [patWatch, quinnWatch, lenaWatch] = await Promise.all([
      live.watchNotifications(pat),
      live.watchNotifications(quinn),
      live.watchNotifications(librarian),
    ]);
    // Quinn watches from a second device too.
    const quinnOther = await live.watchNotifications(quinn);
    await eventually(() => stats().subscribers === 4);

    const lent = await live.borrow(alex, book.id);
    const patHold = (await live.reserve(pat, book.id)).data!.reserveBook;
    const quinnHold = (await live.reserve(quinn, book.id)).data!.reserveBook;
    const before = stats();
    await live.returnLoan(alex, lent.data!.borrowBook.id);

    // Positive control first: Pat's hold is ready and Pat hears about it.
    await frames(patWatch, 1, 'Pat to be told her hold is ready');
    const [patsOwn] = received(patWatch);
    expect(patsOwn).toMatchObject({ kind: 'RESERVATION_READY', reservation: { id: patHold.id } });

    // Pat cancels: the copy passes to Quinn, who hears about his own hold on both sockets. A group's frames
    // keep the order of the events, so anything of Pat's sent to Quinn would have arrived before this.
    expect((await live.cancel(pat, patHold.id)).errors).toBeUndefined();
    await frames(quinnWatch, 1, 'Quinn to be told his hold is ready');
    await frames(quinnOther, 1, 'Quinn’s second socket to be told too');
    const [quinnsOwn] = received(quinnWatch);
    expect(quinnsOwn).toMatchObject({ kind: 'RESERVATION_READY', reservation: { id: quinnHold.id, status: 'READY' } });
    expect(received(quinnOther)).toEqual([quinnsOwn]);
    expect(quinnsOwn!.id).not.toBe(patsOwn!.id);

    expect(received(patWatch)).toEqual([patsOwn]);
    expect(lenaWatch.results).toEqual([]);
    expect(JSON.stringify([quinnWatch.results, quinnOther.results, lenaWatch.results])).not.toContain(patsOwn!.id);
    expect(JSON.stringify([patWatch.results, lenaWatch.results])).not.toContain(quinnsOwn!.id);
    // Two events, each resolved once, for its owner's group only: 1 frame to Pat, 2 to Quinn, none to Lena.
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(2);
    expect(stats().framesSent - before.framesSent).toBe(3);
    // The inboxes agree.
    expect((await live.inbox(pat)).notifications.edges.map((e) => e.node.id)).toEqual([patsOwn!.id]);
    expect((await live.inbox(quinn)).notifications.edges.map((e) => e.node.id)).toEqual([quinnsOwn!.id]);
    expect((await live.inbox(librarian)).notifications.totalCount).toBe(0);
  });

  // Last: moves the platform's clock by two weeks.
  it('tells a patron their loan is due soon, then overdue, as the test clock moves; markNotificationsRead clears them', async () => {
    const dana = await live.person();
    const book = await live.book(1);
    const title = await live.titleOf(book.id);
    const watch = await live.watchNotifications(dana);
    await eventually(() => stats().subscribers === 1);
    const loan = (await live.borrow(dana, book.id)).data!.borrowBook;
    const scan = () => platform.subgraphs.loans.scanner.runNow();

    // Twelve and a half days of the fourteen: due within 2 days, Dana's default reminder lead time.
    await live.advanceClock(admin, 12 * DAY + 12 * 3600);
    expect((await scan())?.recorded).toBeGreaterThanOrEqual(1);
    await frames(watch, 1, 'Dana to be reminded that her loan is due');
    const [dueSoon] = received(watch);
    expect(dueSoon).toEqual({
      id: expect.any(String),
      kind: 'DUE_SOON',
      message: expect.stringMatching(/is due back in 2 days \(.+\)\. Return or renew it/),
      loan: { id: loan.id },
      book: { title },
      reservation: null,
    });

    // Two more days: overdue.
    await live.advanceClock(admin, 2 * DAY);
    expect((await scan())?.recorded).toBeGreaterThanOrEqual(1);
    await frames(watch, 2, 'Dana to be told her loan is overdue');
    const overdue = received(watch)[1];
    expect(overdue).toEqual({
      id: expect.any(String),
      kind: 'OVERDUE',
      message: expect.stringMatching(/was due back on .+ and is now overdue/),
      loan: { id: loan.id },
      book: { title },
      reservation: null,
    });

    // A scan with nothing new records nothing, and the inbox holds exactly the two, newest first.
    expect((await scan())?.recorded).toBe(0);
    await platform.subgraphs.notifications.consumer.settled();
    const inbox = await live.inbox(dana);
    expect(inbox.unreadNotificationCount).toBe(2);
    expect(inbox.notifications.edges.map((e) => e.node)).toEqual([
      { ...overdue, readAt: null },
      { ...dueSoon, readAt: null },
    ]);

    // Reading one brings the count down by one; marking both marks only the one still unread.
    expect(await live.markRead(dana, [dueSoon!.id])).toBe(1);
    expect((await live.inbox(dana)).unreadNotificationCount).toBe(1);
    expect(await live.markRead(dana, [dueSoon!.id, overdue!.id])).toBe(1);
    const read = await live.inbox(dana);
    expect(read.unreadNotificationCount).toBe(0);
    expect(read.notifications.edges.every((e) => e.node.readAt !== null)).toBe(true);
    expect(watch.results).toHaveLength(2);
    expect(watch.error).toBeUndefined();
  });
});
