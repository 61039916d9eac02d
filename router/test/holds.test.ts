/**
 * The hold queue through the router on PGlite: who may place and cancel holds, FIFO hand-over of returned
 * and new copies, live gapless positions, expiry on the test clock, the handoff saga interrupted and
 * reconciled, and statement counts of the queue fields.
 */
import { randomUUID } from 'node:crypto';
import { CALLER_HEADER, ServiceClock, serviceCredential } from '@shelfwise/kit';
import { eventually, graphql } from '@shelfwise/testkit';
import type { HandoffHooks, ReservationsOptions } from '@shelfwise/reservations';
import { startPlatform, type Platform } from '../src/platform.js';
import { codes, type Person } from './circulationKit.js';
import { Holds, type HoldView } from './holdsKit.js';

const DAY = 24 * 60 * 60;

/** Where a handoff "crashes": the named step throws once, as if the process died there. */
const crash: { at: 'beforeBooks' | 'afterBooks' | null; bookId: string | null } = { at: null, bookId: null };
const hooks: HandoffHooks = {
  beforeBooks: async (handoff) => {
    if (crash.at === 'beforeBooks' && handoff.bookId === crash.bookId) {
      crash.at = null;
      throw new Error('killed before the books call');
    }
  },
  afterBooks: async (handoff) => {
    if (crash.at === 'afterBooks' && handoff.bookId === crash.bookId) {
      crash.at = null;
      throw new Error('killed after the books call');
    }
  },
};

let platform: Platform;
let h: Holds;
let librarian: Person;
const books: string[] = [];

beforeAll(async () => {
  const reservations: ReservationsOptions = {
    handoffHooks: hooks,
    holds: { scanIntervalMs: 0, reconcileIntervalMs: 0, handoffStaleMs: 60_000 },
  };
  platform = await startPlatform({ clock: new ServiceClock(true), subgraphs: { reservations } });
  h = new Holds(platform);
  await h.listen();
  librarian = await h.person('LIBRARIAN');
}, 120_000);

afterAll(async () => {
  await h?.close();
  await platform?.stop();
});

async function newBook(copies: number) {
  const book = await h.book(copies);
  books.push(book.id);
  return book;
}

/** A book with `copies` copies, all lent out, and `n` patrons who reserved it in order. */
async function queue(copies: number, n: number) {
  const book = await newBook(copies);
  const loans = [];
  for (let i = 0; i < copies; i += 1) loans.push(await h.lend(book.id));
  const patrons: Person[] = [];
  const holds: HoldView[] = [];
  for (let i = 0; i < n; i += 1) {
    const p = await h.person();
    const res = await h.reserve(p, book.id);
    expect(res.errors).toBeUndefined();
    patrons.push(p);
    holds.push(res.data!.reserveBook);
  }
  return { book, loans, patrons, holds };
}

const statuses = async (pairs: [Person, HoldView][]) => (await h.holdsOf(pairs.map(([p, x]) => [p, x.id]))).map((x) => x.status);
const positions = async (pairs: [Person, HoldView][]) => (await h.holdsOf(pairs.map(([p, x]) => [p, x.id]))).map((x) => x.position);
const zip = <A, B>(a: A[], b: B[]) => a.map((x, i) => [x, b[i]!] as [A, B]);

describe('reserveBook', () => {
  it('places a WAITING hold at the end of the queue when no copy is free', async () => {
    const { patrons, holds } = await queue(1, 3);
    expect(holds.map((x) => x.status)).toEqual(['WAITING', 'WAITING', 'WAITING']);
    expect(holds.map((x) => x.position)).toEqual([1, 2, 3]);
    expect(holds[0]!.user.id).toBe(patrons[0]!.id);
  });

  it('refuses with HOLD_NOT_ALLOWED while a copy is on the shelf', async () => {
    const book = await newBook(2);
    await h.lend(book.id);
    const res = await h.reserve(await h.person(), book.id);
    expect(codes(res)).toEqual(['HOLD_NOT_ALLOWED']);
    expect(res.errors?.[0]?.message).toMatch(/on the shelf — borrow it/);
  });

  it('refuses unknown, malformed and removed books with NOT_FOUND, and anonymous callers', async () => {
    const p = await h.person();
    expect(codes(await h.reserve(p, randomUUID()))).toEqual(['NOT_FOUND']);
    expect(codes(await h.reserve(p, 'nope'))).toEqual(['NOT_FOUND']);
    const removed = await newBook(0);
    const rm = await h.call(librarian, 'mutation($id: ID!) { removeBook(id: $id) }', { id: removed.id });
    expect(rm.errors).toBeUndefined();
    expect(codes(await h.reserve(p, removed.id))).toEqual(['NOT_FOUND']);
    expect(codes(await h.reserve(null, removed.id))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a second live hold on the same book with CONFLICT, also when raced', async () => {
    const book = await newBook(0);
    const p = await h.person();
    const results = await Promise.all(Array.from({ length: 5 }, () => h.reserve(p, book.id)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(codes).sort()).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    const again = await h.reserve(p, book.id);
    expect(codes(again)).toEqual(['CONFLICT']);
    // Once cancelled, the patron may queue again (at the end).
    await h.cancel(p, results.find((r) => !r.errors)!.data!.reserveBook.id);
    expect((await h.reserve(p, book.id)).errors).toBeUndefined();
  });

  it('allows at most 10 live holds per patron (HOLD_NOT_ALLOWED with the reason)', async () => {
    const p = await h.person();
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await h.reserve(p, (await newBook(0)).id);
      expect(res.errors).toBeUndefined();
      ids.push(res.data!.reserveBook.id);
    }
    const eleventh = await h.reserve(p, (await newBook(0)).id);
    expect(codes(eleventh)).toEqual(['HOLD_NOT_ALLOWED']);
    expect(eleventh.errors?.[0]?.message).toMatch(/already have 10 holds.*may have 10 in all/);
    await h.cancel(p, ids[0]!);
    expect((await h.reserve(p, (await newBook(0)).id)).errors).toBeUndefined();
  });
});

describe('the queue', () => {
  it('hands returned copies to the first WAITING holds in order, once per loan', async () => {
    const { book, loans, patrons, holds } = await queue(2, 3);
    const first = await h.routeReturn(loans[0]!, book.id, 5);
    expect(first.errors).toBeUndefined();
    expect(first.data?.routeReturnedCopy).toMatchObject({ status: 'ON_HOLD_SHELF', reservationId: holds[0]!.id });
    // The same loan again: the same answer, nothing moves.
    const repeat = await h.routeReturn(loans[0]!, book.id, 5);
    expect(repeat.data?.routeReturnedCopy).toEqual(first.data?.routeReturnedCopy);
    const second = await h.routeReturn(loans[1]!, book.id);
    expect(second.data?.routeReturnedCopy.reservationId).toBe(holds[1]!.id);

    const now = await h.holdsOf(
      zip(
        patrons,
        holds.map((x) => x.id),
      ),
    );
    expect(now.map((x) => [x.status, x.position])).toEqual([
      ['READY', null],
      ['READY', null],
      ['WAITING', 1],
    ]);
    expect(new Date(now[0]!.pickupBy!).getTime() - new Date(now[0]!.readyAt!).getTime()).toBe(5 * DAY * 1000);
    expect(new Date(now[1]!.pickupBy!).getTime() - new Date(now[1]!.readyAt!).getTime()).toBe(3 * DAY * 1000);
    expect(await h.availableCopies(book.id)).toBe(0);
    const readyEvents = () => h.events.filter((e) => e.type === 'RESERVATION_READY' && e.bookId === book.id);
    await eventually(() => readyEvents().length >= 2, 5000, 'two RESERVATION_READY events');
    const ready = readyEvents();
    expect(ready).toHaveLength(2);
    expect(ready.map((e) => [e.userId, e.reservationId, e.id])).toEqual([
      [patrons[0]!.id, holds[0]!.id, `RESERVATION_READY:${holds[0]!.id}:${first.data!.routeReturnedCopy.copyId}`],
      [patrons[1]!.id, holds[1]!.id, `RESERVATION_READY:${holds[1]!.id}:${second.data!.routeReturnedCopy.copyId}`],
    ]);
    expect(ready[0]!.data).toEqual({ bookTitle: expect.stringMatching(/^Circulating/), pickupBy: now[0]!.pickupBy });
    // loans asks for the holder's READY hold when they borrow, then fulfils it.
    const asked = await h.internal<{ readyHoldFor: string | null }>('query($u: ID!, $b: ID!) { readyHoldFor(userId: $u, bookId: $b) }', {
      u: patrons[0]!.id,
      b: book.id,
    });
    expect(asked.data?.readyHoldFor).toBe(holds[0]!.id);
    const loanId = randomUUID();
    const lent = await graphql<{ allocateCopyForLoan: { id: string } }>(
      platform.subgraphs.books.url,
      'mutation($l: ID!, $u: ID!, $b: ID, $r: ID) { allocateCopyForLoan(input: { loanId: $l, userId: $u, bookId: $b, reservationId: $r }) { id } }',
      { l: loanId, u: patrons[0]!.id, b: book.id, r: holds[0]!.id },
      { [CALLER_HEADER]: serviceCredential('loans') },
    );
    expect(lent.data?.allocateCopyForLoan.id).toBe(first.data!.routeReturnedCopy.copyId);
    for (let i = 0; i < 2; i += 1) {
      const ok = await h.internal<{ fulfillHold: boolean }>('mutation($r: ID!, $l: ID!) { fulfillHold(reservationId: $r, loanId: $l) }', {
        r: holds[0]!.id,
        l: loanId,
      });
      expect(ok.data?.fulfillHold).toBe(true);
    }
    expect(await statuses([[patrons[0]!, holds[0]!]])).toEqual(['FULFILLED']);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });

  it('sends a copy back to the shelf when nobody waits', async () => {
    const book = await newBook(1);
    const loan = await h.lend(book.id);
    const res = await h.routeReturn(loan, book.id);
    expect(res.data?.routeReturnedCopy).toMatchObject({ status: 'AVAILABLE', reservationId: null });
    expect(await h.availableCopies(book.id)).toBe(1);
  });

  it('gives new copies to the queue in order', async () => {
    const { book, patrons, holds } = await queue(1, 3);
    const added = await h.call(librarian, 'mutation($id: ID!) { addCopies(bookId: $id, count: 2) { id } }', { id: book.id });
    expect(added.errors).toBeUndefined();
    await eventually(async () => (await statuses(zip(patrons, holds))).join() === 'READY,READY,WAITING', 5000, 'two holds READY');
    expect(await positions(zip(patrons, holds))).toEqual([null, null, 1]);
    expect(await h.availableCopies(book.id)).toBe(0);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });

  it('keeps positions gapless after cancellations, each patron seeing and cancelling only their own', async () => {
    const { book, patrons, holds } = await queue(1, 5);
    const other = await h.cancel(patrons[0]!, holds[1]!.id);
    expect(codes(other)).toEqual(['FORBIDDEN']);
    expect((await h.mine(patrons[0]!)).map((x) => x.id)).toEqual([holds[0]!.id]);
    expect((await h.cancel(patrons[1]!, holds[1]!.id)).data?.cancelReservation.status).toBe('CANCELLED');
    expect((await h.cancel(librarian, holds[3]!.id)).data?.cancelReservation.status).toBe('CANCELLED');
    expect(await positions(zip(patrons, holds))).toEqual([1, null, 2, null, 3]);
    // Cancelling again answers the hold unchanged; an unknown id is NOT_FOUND.
    expect((await h.cancel(patrons[1]!, holds[1]!.id)).data?.cancelReservation.status).toBe('CANCELLED');
    expect(codes(await h.cancel(patrons[1]!, randomUUID()))).toEqual(['NOT_FOUND']);

    // Staff list the queue in line order; patrons may not.
    const q = `query($id: ID!) { holdQueue(bookId: $id) { totalCount edges { node { id position user { id } } } } }`;
    const listed = await h.call<{ holdQueue: { totalCount: number; edges: { node: { id: string; position: number } }[] } }>(librarian, q, {
      id: book.id,
    });
    expect(listed.data?.holdQueue.totalCount).toBe(3);
    expect(listed.data?.holdQueue.edges.map((e) => [e.node.id, e.node.position])).toEqual([
      [holds[0]!.id, 1],
      [holds[2]!.id, 2],
      [holds[4]!.id, 3],
    ]);
    expect(codes(await h.call(patrons[0]!, q, { id: book.id }))).toEqual(['FORBIDDEN']);
    const length = await graphql<{ book: { holdQueueLength: number } }>(h.url, 'query($id: ID!) { book(id: $id) { holdQueueLength } }', {
      id: book.id,
    });
    expect(length.data?.book.holdQueueLength).toBe(3);
  });

  it('passes a cancelled READY hold’s copy to the next in line, or back to the shelf', async () => {
    const { book, loans, patrons, holds } = await queue(1, 2);
    await h.routeReturn(loans[0]!, book.id);
    expect(await statuses(zip(patrons, holds))).toEqual(['READY', 'WAITING']);
    expect((await h.cancel(patrons[0]!, holds[0]!.id)).data?.cancelReservation.status).toBe('CANCELLED');
    expect(await statuses(zip(patrons, holds))).toEqual(['CANCELLED', 'READY']);
    expect(await h.shelfProblems([book.id])).toEqual([]);
    expect((await h.cancel(patrons[1]!, holds[1]!.id)).data?.cancelReservation.status).toBe('CANCELLED');
    expect(await h.availableCopies(book.id)).toBe(1);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });

  it('expires READY holds on the test clock and passes the copy on', async () => {
    const { book, loans, patrons, holds } = await queue(1, 2);
    await h.routeReturn(loans[0]!, book.id);
    const [ready] = await h.holdsOf([[patrons[0]!, holds[0]!.id]]);
    platform.clock.advance(3 * DAY - 60);
    await platform.subgraphs.reservations.scanOnce();
    expect(await statuses(zip(patrons, holds))).toEqual(['READY', 'WAITING']);
    platform.clock.advance(120);
    const report = await platform.subgraphs.reservations.scanOnce();
    expect(report?.expired).toBeGreaterThanOrEqual(1);
    expect(await statuses(zip(patrons, holds))).toEqual(['EXPIRED', 'READY']);
    const find = () => h.events.find((x) => x.type === 'RESERVATION_EXPIRED' && x.reservationId === holds[0]!.id);
    await eventually(() => find() !== undefined, 5000, 'RESERVATION_EXPIRED');
    const expired = find()!;
    expect(expired).toMatchObject({ id: `RESERVATION_EXPIRED:${holds[0]!.id}`, userId: patrons[0]!.id, source: 'reservations' });
    expect(expired.data?.pickupBy).toBe(ready!.pickupBy);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });
});

describe('crash safety', () => {
  it('finishes a handoff interrupted before the books call', async () => {
    const { book, loans, patrons, holds } = await queue(1, 2);
    Object.assign(crash, { at: 'beforeBooks', bookId: book.id });
    const res = await h.routeReturn(loans[0]!, book.id);
    expect(res.errors).toBeDefined();
    expect((await h.copies(book.id))[0]!.status).toBe('ON_LOAN');
    expect(await statuses(zip(patrons, holds))).toEqual(['WAITING', 'WAITING']);
    // Not yet stale: the reconciler leaves it to the request that may still run it.
    expect((await platform.subgraphs.reservations.reconcileOnce())?.finished).toBe(0);
    platform.clock.advance(61);
    expect((await platform.subgraphs.reservations.reconcileOnce())?.finished).toBe(1);
    expect(await statuses(zip(patrons, holds))).toEqual(['READY', 'WAITING']);
    expect(await h.shelfProblems([book.id])).toEqual([]);
    // loans retrying the return gets the answer the reconciler finished.
    expect((await h.routeReturn(loans[0]!, book.id)).data?.routeReturnedCopy.reservationId).toBe(holds[0]!.id);
  });

  it('repairs a copy left on the hold shelf without a READY hold (crash after the books call)', async () => {
    const { book, loans, patrons, holds } = await queue(1, 2);
    Object.assign(crash, { at: 'afterBooks', bookId: book.id });
    expect((await h.routeReturn(loans[0]!, book.id)).errors).toBeDefined();
    expect((await h.copies(book.id))[0]!.status).toBe('ON_HOLD_SHELF');
    expect(await h.shelfProblems([book.id])).not.toEqual([]);
    platform.clock.advance(61);
    await platform.subgraphs.reservations.reconcileOnce();
    expect(await statuses(zip(patrons, holds))).toEqual(['READY', 'WAITING']);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });

  it('repairs an expiry interrupted after the copy moved to the next hold', async () => {
    const { book, loans, patrons, holds } = await queue(1, 2);
    await h.routeReturn(loans[0]!, book.id);
    platform.clock.advance(3 * DAY + 60);
    Object.assign(crash, { at: 'afterBooks', bookId: book.id });
    await platform.subgraphs.reservations.scanOnce();
    expect(await statuses(zip(patrons, holds))).toEqual(['EXPIRED', 'WAITING']);
    expect(await h.shelfProblems([book.id])).not.toEqual([]);
    platform.clock.advance(61);
    await platform.subgraphs.reservations.reconcileOnce();
    expect(await statuses(zip(patrons, holds))).toEqual(['EXPIRED', 'READY']);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });
});

describe('cost', () => {
  it('resolves position and holdQueueLength for many holds and books in one statement each', async () => {
    const { book, patrons } = await queue(1, 30);
    const others = await Promise.all(Array.from({ length: 20 }, () => newBook(0)));
    const stats = platform.subgraphs.reservations.database.db.stats;
    const q = `query($id: ID!) { holdQueue(bookId: $id, first: 100) { edges { node { position } } } }`;
    let before = stats.statements;
    const listed = await h.call<{ holdQueue: { edges: { node: { position: number } }[] } }>(librarian, q, { id: book.id });
    expect(listed.data?.holdQueue.edges.map((e) => e.node.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The page, its count, and one statement for every position.
    expect(stats.statements - before).toBe(3);
    before = stats.statements;
    const lengths = await graphql<{ books: { edges: { node: { holdQueueLength: number } }[] } }>(
      h.url,
      'query { books(first: 100) { edges { node { id holdQueueLength } } } }',
    );
    expect(lengths.errors).toBeUndefined();
    expect(stats.statements - before).toBe(1);
    expect(patrons).toHaveLength(30);
    expect(others).toHaveLength(20);
  });
});
