/**
 * The hold queue under concurrency on real Postgres (books and reservations on their own databases):
 * many patrons reserving one book at once get unique, gapless positions; a patron racing themselves gets
 * one hold and CONFLICTs, and cannot race past the 10-hold limit; returns racing each other hand their
 * copies to different holds, first in line first, and two fills of new copies never serve a hold twice.
 */
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { ServiceClock } from '@shelfwise/kit';
import type { ReservationsOptions } from '@shelfwise/reservations';
import { startPlatform, type Platform } from '../src/platform.js';
import { codes, type Person } from './circulationKit.js';
import { Holds } from './holdsKit.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const names = { books: freshDatabaseName('holds_books'), reservations: freshDatabaseName('holds_res') };
/** Polls of 50 ms while racing fills settle: up to 20 s. */
const SETTLE_TRIES = 400;

describePg('hold queue on real Postgres', () => {
  let platform: Platform;
  let h: Holds;

  beforeAll(async () => {
    const reservations: ReservationsOptions = {
      databaseUrl: TEST_DATABASE_URL,
      databaseName: names.reservations,
      holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 },
    };
    platform = await startPlatform({
      clock: new ServiceClock(true),
      subgraphs: {
        books: { databaseUrl: TEST_DATABASE_URL, databaseName: names.books },
        reservations,
      },
    });
    h = new Holds(platform);
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await Promise.all(Object.values(names).map((n) => dropTestDatabase(n)));
  });

  it('gives 40 patrons reserving at once unique, gapless positions', async () => {
    const book = await h.book(1);
    await h.lend(book.id);
    const patrons: Person[] = await Promise.all(Array.from({ length: 40 }, () => h.person()));
    const results = await Promise.all(patrons.map((p) => h.reserve(p, book.id)));
    expect(results.flatMap(codes)).toEqual([]);
    const holds = await h.holdsOf(patrons.map((p, i) => [p, results[i]!.data!.reserveBook.id]));
    expect(holds.map((x) => x.position).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Line order is the order the holds were placed (createdAt, then id).
    const byPlace = [...holds].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    expect(byPlace.map((x) => x.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('lets a patron racing themselves place one hold per book and no more than 10 in all', async () => {
    const p = await h.person();
    const book = await h.book(0);
    const same = await Promise.all(Array.from({ length: 8 }, () => h.reserve(p, book.id)));
    expect(same.filter((r) => !r.errors)).toHaveLength(1);
    expect(same.flatMap(codes).every((c) => c === 'CONFLICT')).toBe(true);
    for (let i = 0; i < 8; i += 1) expect((await h.reserve(p, (await h.book(0)).id)).errors).toBeUndefined();
    // 9 live holds: of 6 racing for new books only one fits.
    const others = await Promise.all(Array.from({ length: 6 }, () => h.book(0)));
    const raced = await Promise.all(others.map((b) => h.reserve(p, b.id)));
    expect(raced.filter((r) => !r.errors)).toHaveLength(1);
    expect(raced.flatMap(codes).sort()).toEqual(Array(5).fill('HOLD_NOT_ALLOWED'));
    expect(await h.mine(p, 'WAITING')).toHaveLength(10);
  });

  it('hands racing returns to different holds, first in line first', async () => {
    const book = await h.book(4);
    const loans = await Promise.all(Array.from({ length: 4 }, () => h.lend(book.id)));
    const patrons: Person[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const p = await h.person();
      patrons.push(p);
      ids.push((await h.reserve(p, book.id)).data!.reserveBook.id);
    }
    const routed = await Promise.all(loans.flatMap((l) => [h.routeReturn(l, book.id), h.routeReturn(l, book.id)]));
    expect(routed.flatMap(codes)).toEqual([]);
    const to = routed.map((r) => r.data!.routeReturnedCopy.reservationId);
    // Each loan's two calls agree; the four loans served the first four holds.
    for (let i = 0; i < 4; i += 1) expect(to[2 * i]).toBe(to[2 * i + 1]);
    expect(new Set(to).size).toBe(4);
    expect([...new Set(to)].sort()).toEqual(ids.slice(0, 4).sort());
    const now = await h.holdsOf(patrons.map((p, i) => [p, ids[i]!]));
    expect(now.map((x) => [x.status, x.position])).toEqual([
      ['READY', null],
      ['READY', null],
      ['READY', null],
      ['READY', null],
      ['WAITING', 1],
      ['WAITING', 2],
    ]);
    expect(await h.shelfProblems([book.id])).toEqual([]);
  });

  it('never serves a hold twice when fills of new copies race', async () => {
    const book = await h.book(1);
    await h.lend(book.id);
    const patrons: Person[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const p = await h.person();
      patrons.push(p);
      ids.push((await h.reserve(p, book.id)).data!.reserveBook.id);
    }
    // Three new copies arrive (books announces them: the listener fills) while four more fills race it.
    const add = await h.call(await h.person('LIBRARIAN'), 'mutation($id: ID!) { addCopies(bookId: $id, count: 3) { id } }', {
      id: book.id,
    });
    expect(add.errors).toBeUndefined();
    const filled = await Promise.all(Array.from({ length: 4 }, () => platform.subgraphs.reservations.holds.fill(book.id)));
    expect(filled.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    const statuses = async () => (await h.holdsOf(patrons.map((p, i) => [p, ids[i]!]))).map((x) => x.status).join();
    // Waits are generous: on a loaded CI machine one fill's books call has taken longer than 5 s.
    for (let i = 0; i < SETTLE_TRIES && (await statuses()) !== 'READY,READY,READY,WAITING,WAITING'; i += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(await statuses()).toBe('READY,READY,READY,WAITING,WAITING');
    expect(await h.availableCopies(book.id)).toBe(0);
    // The listener's last fill (which finds no copy left) may still be finishing.
    for (let i = 0; i < SETTLE_TRIES && (await h.shelfProblems([book.id])).length > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(await h.shelfProblems([book.id])).toEqual([]);
    expect(
      await platform.subgraphs.reservations.database.prisma.handoff.count({
        where: { bookId: book.id, kind: 'ALLOCATE', state: 'DONE', copyStatus: 'ON_HOLD_SHELF' },
      }),
    ).toBe(3);
  });
});
