import { randomUUID } from 'node:crypto';
import { CALLER_HEADER, callerCredential, InMemoryBus, type ServiceOptions } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import { start, type BooksHandle } from '../src/server.js';
import {
  asLibrarian,
  asLoans,
  asPatron,
  asUser,
  BooksClient,
  codeOf,
  COPY_FIELDS,
  nextIsbn,
  recordAvailability,
  type BookResult,
} from './harness.js';

/**
 * The internal inventory operations (allocate / cancel / check in for loans, allocate / release for
 * holds), run on PGlite (inventory.test.ts) and on real Postgres (inventory.postgres.test.ts), since their
 * locking SQL must work on both.
 */
export function describeInventory(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    let handle: BooksHandle;
    let books: BooksClient;
    const bus = new InMemoryBus();
    let availability: Awaited<ReturnType<typeof recordAvailability>>;

    beforeAll(async () => {
      // No relay timer: a pass in the middle of a measured command would add to its statement count.
      handle = await start({ ...options(), bus, relayIntervalMs: 0 });
      books = new BooksClient(handle);
      availability = await recordAvailability(bus);
    });
    afterAll(async () => {
      await handle?.stop();
      await bus.dispose();
      await cleanup?.();
    });

    const newBook = (copies: number, title = 'Inventory') =>
      books.addBook({ isbn: nextIsbn(20), title, authors: ['Stock Keeper'], copies });
    const statusOf = async (copyId: string) => (await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: copyId } })).status;

    describe('who may call them', () => {
      const operations: [string, string, (bookId: string) => Record<string, unknown>][] = [
        [
          'allocateCopyForLoan',
          `mutation ($input: AllocateForLoanInput!) { allocateCopyForLoan(input: $input) { id } }`,
          (bookId) => ({ input: { loanId: randomUUID(), userId: randomUUID(), bookId } }),
        ],
        ['cancelLoanAllocation', 'mutation ($id: ID!) { cancelLoanAllocation(loanId: $id) }', () => ({ id: randomUUID() })],
        ['checkInLoanCopy', 'mutation ($id: ID!) { checkInLoanCopy(loanId: $id) { id } }', () => ({ id: randomUUID() })],
        [
          'allocateCopyForHold',
          'mutation ($r: ID!, $b: ID!) { allocateCopyForHold(reservationId: $r, bookId: $b) { id } }',
          (bookId) => ({ r: randomUUID(), b: bookId }),
        ],
        ['releaseHoldCopy', 'mutation ($r: ID!) { releaseHoldCopy(reservationId: $r) { id } }', () => ({ r: randomUUID() })],
      ];

      it.each(operations)(
        '%s is refused to every router credential sent straight to the subgraph (anonymous, patron, librarian, admin), changing nothing',
        async (_name, query, vars) => {
          const book = await newBook(1);
          for (const headers of [{}, asPatron(), asLibrarian(), asUser('ADMIN')]) {
            const res = await books.call(query, vars(book.id), headers);
            expect(codeOf(res)).toBe('FORBIDDEN');
            expect(res.errors![0]!.message).toMatch(/internal operation/);
          }
          expect(await books.counts(book.id)).toMatchObject({ byStatus: { AVAILABLE: 1 } });
          expect(await handle.database.prisma.copyAllocation.count({ where: { bookId: book.id } })).toBe(0);
        },
      );

      it('is refused without any credential at all (401 before GraphQL runs)', async () => {
        const res = await fetch(handle.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
          body: JSON.stringify({ query: 'mutation { cancelLoanAllocation(loanId: "00000000-0000-4000-8000-000000000000") }' }),
        });
        expect(res.status).toBe(401);
      });

      it('answers a service credential', async () => {
        const res = await books.cancelLoan(randomUUID());
        expect(res).toEqual({ data: { cancelLoanAllocation: false } });
        // …and the router's anonymous credential in the header, for comparison, is refused.
        const anon = await books.call(
          'mutation ($id: ID!) { cancelLoanAllocation(loanId: $id) }',
          { id: randomUUID() },
          {
            [CALLER_HEADER]: callerCredential(null),
          },
        );
        expect(codeOf(anon)).toBe('FORBIDDEN');
      });
    });

    describe('allocateCopyForLoan', () => {
      it('lends a free copy, and the same loan id again gets the same copy without taking another', async () => {
        const book = await newBook(3);
        const request = { loanId: randomUUID(), userId: randomUUID(), bookId: book.id };
        const first = await books.allocateForLoan(request);
        expect(first.errors).toBeUndefined();
        expect(first.data!.allocateCopyForLoan).toMatchObject({
          status: 'ON_LOAN',
          book: { id: book.id, totalCopies: 3, availableCopies: 2 },
        });
        const again = await books.allocateForLoan(request);
        expect(again.data!.allocateCopyForLoan.id).toBe(first.data!.allocateCopyForLoan.id);
        expect(await books.expectCountsAgree(book.id)).toEqual([3, 2]);
        const row = await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: first.data!.allocateCopyForLoan.id } });
        expect(row.loanId).toBe(request.loanId);
        const allocation = await handle.database.prisma.copyAllocation.findUniqueOrThrow({ where: { key: request.loanId } });
        expect(allocation).toMatchObject({ kind: 'LOAN', copyId: row.id, bookId: book.id, userId: request.userId, endedAt: null });
        // One event for the allocation, none for the repeat.
        await eventually(() => availability.forBook(book.id).length === 2, 2000, 'the allocation event');
        await new Promise((r) => setTimeout(r, 30));
        expect(availability.forBook(book.id).map((e) => e.availableCopies)).toEqual([3, 2]);
      });

      it('refuses the same loan id for another book (IDEMPOTENCY_KEY_REUSED)', async () => {
        const [a, b] = [await newBook(1), await newBook(1)];
        const loanId = randomUUID();
        await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: a.id });
        const res = await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: b.id });
        expect(codeOf(res)).toBe('IDEMPOTENCY_KEY_REUSED');
        expect(await books.expectCountsAgree(b.id)).toEqual([1, 1]);
      });

      it('says BOOK_UNAVAILABLE when nothing is free: where the copies are and that a hold can be placed', async () => {
        const book = await newBook(2, 'Sought After');
        await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id });
        await handle.inventory.allocateForHold(randomUUID(), book.id);
        const res = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id });
        expect(codeOf(res)).toBe('BOOK_UNAVAILABLE');
        expect(res.errors![0]!.message).toMatch(/"Sought After".*1 on loan.*1 waiting on the hold shelf for other patrons.*Place a hold/);
        expect(res.errors![0]!.extensions).toMatchObject({ bookId: book.id, onLoan: 1, onHoldShelf: 1 });

        const none = await newBook(0, 'Not Yet Here');
        const empty = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: none.id });
        expect(codeOf(empty)).toBe('BOOK_UNAVAILABLE');
        expect(empty.errors![0]!.message).toMatch(/no copy .* in circulation.*hold/);
      });

      it('lends exactly the copy with a barcode, refusing one that is out, lost or held for someone else', async () => {
        const book = await newBook(4);
        type C = BookResult['copies'][number];
        const [a, b, c, d] = book.copies as [C, C, C, C];
        const lent = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), barcode: ` ${b.barcode} ` });
        expect(lent.data?.allocateCopyForLoan.id).toBe(b.id);

        const again = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), barcode: b.barcode });
        expect(codeOf(again)).toBe('BOOK_UNAVAILABLE');
        expect(again.errors![0]!.message).toMatch(/already on loan/);

        await books.librarian('mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: c.id });
        const lost = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), barcode: c.barcode });
        expect(codeOf(lost)).toBe('BOOK_UNAVAILABLE');
        expect(lost.errors![0]!.message).toMatch(/recorded as lost/);

        const reservation = randomUUID();
        // a is the first free copy in barcode order: the hold takes it.
        const held = await handle.inventory.allocateForHold(reservation, book.id);
        expect(held?.id).toBe(a.id);
        const stranger = await books.allocateForLoan({
          loanId: randomUUID(),
          userId: randomUUID(),
          barcode: a.barcode,
          reservationId: randomUUID(),
        });
        expect(codeOf(stranger)).toBe('BOOK_UNAVAILABLE');
        expect(stranger.errors![0]!.message).toMatch(/hold shelf for another patron/);
        // The patron whose hold it is may take it at the desk.
        const collected = await books.allocateForLoan({
          loanId: randomUUID(),
          userId: randomUUID(),
          barcode: a.barcode,
          reservationId: reservation,
        });
        expect(collected.data?.allocateCopyForLoan).toMatchObject({ id: a.id, status: 'ON_LOAN' });
        expect(await statusOf(d.id)).toBe('AVAILABLE');
        expect(await books.expectCountsAgree(book.id)).toEqual([4, 1]);
      });

      it('takes the hold-shelf copy of the reservation being collected, not another free one', async () => {
        const book = await newBook(3);
        const reservation = randomUUID();
        const held = await handle.inventory.allocateForHold(reservation, book.id);
        const loanId = randomUUID();
        const res = await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id, reservationId: reservation });
        expect(res.data?.allocateCopyForLoan.id).toBe(held!.id);
        expect(await books.expectCountsAgree(book.id)).toEqual([3, 2]);
        const hold = await handle.database.prisma.copyAllocation.findUniqueOrThrow({ where: { key: reservation } });
        expect(hold.endedAt).not.toBeNull();
        // A reservation with no copy waiting still borrows any free copy.
        const other = await books.allocateForLoan({
          loanId: randomUUID(),
          userId: randomUUID(),
          bookId: book.id,
          reservationId: randomUUID(),
        });
        expect(other.data?.allocateCopyForLoan.status).toBe('ON_LOAN');
      });

      it.each([
        ['a malformed loan id', { loanId: 'loan-1' }, 'BAD_USER_INPUT'],
        ['a malformed user id', { userId: 'me' }, 'BAD_USER_INPUT'],
        ['neither bookId nor barcode', { bookId: null }, 'BAD_USER_INPUT'],
        ['both bookId and barcode', { barcode: 'x-001' }, 'BAD_USER_INPUT'],
        ['an unknown book', { bookId: '00000000-0000-4000-8000-000000000001' }, 'NOT_FOUND'],
        ['an unknown barcode', { bookId: null, barcode: 'no-such-barcode' }, 'NOT_FOUND'],
      ])('refuses %s (%s) and takes nothing', async (_what, override, code) => {
        const book = await newBook(1);
        const res = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id, ...override });
        expect(codeOf(res)).toBe(code);
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
      });

      it('refuses a removed book with BOOK_UNAVAILABLE', async () => {
        const book = await newBook(1, 'Gone Away');
        await books.librarian('mutation ($id: ID!) { removeBook(id: $id) }', { id: book.id });
        const res = await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id });
        expect(codeOf(res)).toBe('BOOK_UNAVAILABLE');
        expect(res.errors![0]!.message).toMatch(/"Gone Away" was removed from the catalogue/);
        expect(codeOf(await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), barcode: book.copies[0]!.barcode }))).toBe(
          'BOOK_UNAVAILABLE',
        );
      });
    });

    describe('cancelLoanAllocation', () => {
      it('puts the copy back on the shelf, once; a cancelled loan id cannot allocate again', async () => {
        const book = await newBook(1);
        const loanId = randomUUID();
        const copy = (await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).data!.allocateCopyForLoan;
        expect(await books.cancelLoan(loanId)).toEqual({ data: { cancelLoanAllocation: true } });
        expect(await statusOf(copy.id)).toBe('AVAILABLE');
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
        expect(await books.cancelLoan(loanId)).toEqual({ data: { cancelLoanAllocation: true } });
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
        const late = await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        expect(codeOf(late)).toBe('CONFLICT');
        expect(late.errors![0]!.message).toMatch(/new loan needs a new id/);
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
        expect((await books.cancelLoan(randomUUID())).data?.cancelLoanAllocation).toBe(false);
        expect(codeOf(await books.cancelLoan('nope'))).toBe('BAD_USER_INPUT');
      });

      it('puts a copy taken from the hold shelf back on the hold shelf for its reservation', async () => {
        const book = await newBook(2);
        const reservation = randomUUID();
        const held = (await handle.inventory.allocateForHold(reservation, book.id))!;
        const loanId = randomUUID();
        await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id, reservationId: reservation });
        expect(await statusOf(held.id)).toBe('ON_LOAN');
        expect((await books.cancelLoan(loanId)).data?.cancelLoanAllocation).toBe(true);
        const back = await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: held.id } });
        expect([back.status, back.reservationId, back.loanId]).toEqual(['ON_HOLD_SHELF', reservation, null]);
        expect((await handle.database.prisma.copyAllocation.findUniqueOrThrow({ where: { key: reservation } })).endedAt).toBeNull();
        expect(await books.expectCountsAgree(book.id)).toEqual([2, 1]);
      });
    });

    describe('checkInLoanCopy', () => {
      it('puts the copy back on the shelf; repeating it returns the same copy and changes nothing', async () => {
        const book = await newBook(1);
        const loanId = randomUUID();
        const copy = (await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).data!.allocateCopyForLoan;
        const events = availability.forBook(book.id).length;
        const res = await books.checkIn(loanId);
        expect(res.data?.checkInLoanCopy).toMatchObject({ id: copy.id, status: 'AVAILABLE', book: { availableCopies: 1 } });
        const again = await books.checkIn(loanId);
        expect(again.data?.checkInLoanCopy).toMatchObject({ id: copy.id, status: 'AVAILABLE' });
        expect((await handle.database.prisma.copyAllocation.findUniqueOrThrow({ where: { key: loanId } })).endedAt).not.toBeNull();
        await eventually(() => availability.forBook(book.id).length === events + 1, 2000, 'one check-in event');
        await new Promise((r) => setTimeout(r, 30));
        expect(availability.forBook(book.id).length).toBe(events + 1);
        // A loan that is over cannot be allocated again under its id.
        expect(codeOf(await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id }))).toBe('CONFLICT');
      });

      it('hands the copy to a waiting reservation: on the hold shelf with a hold allocation keyed by it', async () => {
        const book = await newBook(1);
        const loanId = randomUUID();
        const reservation = randomUUID();
        await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        const res = await books.checkIn(loanId, reservation);
        expect(res.data?.checkInLoanCopy).toMatchObject({ status: 'ON_HOLD_SHELF', book: { totalCopies: 1, availableCopies: 0 } });
        const hold = await handle.database.prisma.copyAllocation.findUniqueOrThrow({ where: { key: reservation } });
        expect(hold).toMatchObject({ kind: 'HOLD', copyId: res.data!.checkInLoanCopy.id, endedAt: null });
        // Anyone else finds nothing free; the reservation's patron collects it.
        expect(codeOf(await books.allocateForLoan({ loanId: randomUUID(), userId: randomUUID(), bookId: book.id }))).toBe(
          'BOOK_UNAVAILABLE',
        );
        const collected = await books.allocateForLoan({
          loanId: randomUUID(),
          userId: randomUUID(),
          bookId: book.id,
          reservationId: reservation,
        });
        expect(collected.data?.allocateCopyForLoan.id).toBe(res.data!.checkInLoanCopy.id);
      });

      it('puts the copy on the shelf when the named reservation already had a hold', async () => {
        const book = await newBook(2);
        const reservation = randomUUID();
        await handle.inventory.allocateForHold(reservation, book.id);
        const loanId = randomUUID();
        await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        const res = await books.checkIn(loanId, reservation);
        expect(res.data?.checkInLoanCopy.status).toBe('AVAILABLE');
        expect(await books.expectCountsAgree(book.id)).toEqual([2, 1]);
      });

      it('finds a copy recorded lost while on loan when it is checked in', async () => {
        const book = await newBook(1);
        const loanId = randomUUID();
        const copy = (await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id })).data!.allocateCopyForLoan;
        await books.librarian('mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: copy.id });
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 0]);
        expect((await books.checkIn(loanId)).data?.checkInLoanCopy.status).toBe('AVAILABLE');
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
      });

      it('answers NOT_FOUND for a loan that has no copy and BAD_USER_INPUT for malformed ids', async () => {
        expect(codeOf(await books.checkIn(randomUUID()))).toBe('NOT_FOUND');
        expect(codeOf(await books.checkIn('x'))).toBe('BAD_USER_INPUT');
        expect(codeOf(await books.checkIn(randomUUID(), 'not-a-reservation'))).toBe('BAD_USER_INPUT');
      });
    });

    describe('holds', () => {
      it('puts a free copy on the hold shelf once per reservation, answers null when none is free, and releases it', async () => {
        const book = await newBook(1);
        const reservation = randomUUID();
        const first = await books.allocateForHold(reservation, book.id);
        expect(first.data?.allocateCopyForHold).toMatchObject({ status: 'ON_HOLD_SHELF', book: { availableCopies: 0 } });
        expect((await books.allocateForHold(reservation, book.id)).data?.allocateCopyForHold?.id).toBe(first.data!.allocateCopyForHold!.id);
        expect((await books.allocateForHold(randomUUID(), book.id)).data?.allocateCopyForHold).toBeNull();
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 0]);

        const released = await books.releaseHold(reservation);
        expect(released.data?.releaseHoldCopy).toMatchObject({ id: first.data!.allocateCopyForHold!.id, status: 'AVAILABLE' });
        expect((await books.releaseHold(reservation)).data?.releaseHoldCopy?.status).toBe('AVAILABLE');
        expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
        // The ended hold gets no new copy under its id.
        expect(codeOf(await books.allocateForHold(reservation, book.id))).toBe('CONFLICT');
        expect((await books.releaseHold(randomUUID())).data?.releaseHoldCopy).toBeNull();
      });

      it('passes a released copy to the next reservation in line', async () => {
        const book = await newBook(1);
        const [first, next] = [randomUUID(), randomUUID()];
        const held = (await books.allocateForHold(first, book.id)).data!.allocateCopyForHold!;
        const res = await books.releaseHold(first, next);
        expect(res.data?.releaseHoldCopy).toMatchObject({ id: held.id, status: 'ON_HOLD_SHELF' });
        expect((await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: held.id } })).reservationId).toBe(next);
        expect((await books.allocateForHold(next, book.id)).data?.allocateCopyForHold?.id).toBe(held.id);
        expect(codeOf(await books.releaseHold(next, next))).toBe('BAD_USER_INPUT');
      });

      it('refuses a removed book, an unknown one, another book under the same reservation id and a loan id', async () => {
        const book = await newBook(2);
        const reservation = randomUUID();
        await books.allocateForHold(reservation, book.id);
        const other = await newBook(1);
        expect(codeOf(await books.allocateForHold(reservation, other.id))).toBe('IDEMPOTENCY_KEY_REUSED');
        expect(codeOf(await books.allocateForHold(randomUUID(), randomUUID()))).toBe('NOT_FOUND');
        const loanId = randomUUID();
        await books.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        expect(codeOf(await books.allocateForHold(loanId, book.id))).toBe('CONFLICT');
        await books.librarian('mutation ($id: ID!) { removeBook(id: $id) }', { id: other.id });
        expect(codeOf(await books.allocateForHold(randomUUID(), other.id))).toBe('BOOK_UNAVAILABLE');
      });
    });

    it('keeps totalCopies / availableCopies equal to the statuses through a whole circulation story', async () => {
      const book = await newBook(3);
      const check = () => books.expectCountsAgree(book.id);
      const [l1, l2, r1] = [randomUUID(), randomUUID(), randomUUID()];
      await books.allocateForLoan({ loanId: l1, userId: randomUUID(), bookId: book.id });
      expect(await check()).toEqual([3, 2]);
      await books.allocateForHold(r1, book.id);
      expect(await check()).toEqual([3, 1]);
      await books.allocateForLoan({ loanId: l2, userId: randomUUID(), bookId: book.id, reservationId: r1 });
      expect(await check()).toEqual([3, 1]);
      await books.checkIn(l1);
      expect(await check()).toEqual([3, 2]);
      await books.librarian(`mutation ($id: ID!) { addCopies(bookId: $id, count: 2) { id } }`, { id: book.id });
      expect(await check()).toEqual([5, 4]);
      await books.cancelLoan(l2); // the copy goes back to r1's hold shelf: still not available
      expect(await check()).toEqual([5, 4]);
      await books.releaseHold(r1);
      expect(await check()).toEqual([5, 5]);
      const copies = await handle.database.prisma.copy.findMany({ where: { bookId: book.id }, orderBy: { barcode: 'asc' } });
      await books.librarian('mutation ($id: ID!) { withdrawCopy(copyId: $id) { id } }', { id: copies[0]!.id });
      expect(await check()).toEqual([4, 4]);
      // Every allocation row is closed and no copy points at a loan or reservation any more.
      expect(await handle.database.prisma.copyAllocation.count({ where: { bookId: book.id, endedAt: null } })).toBe(0);
      expect(
        await handle.database.prisma.copy.count({
          where: { bookId: book.id, OR: [{ loanId: { not: null } }, { reservationId: { not: null } }] },
        }),
      ).toBe(0);
    });

    it('costs the same few statements per allocation and check-in however many copies a book has', async () => {
      const stats = handle.database.db.stats;
      const cost = async (copies: number) => {
        const book = await newBook(copies);
        const loanId = randomUUID();
        let before = stats.statements;
        await handle.inventory.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        const allocate = stats.statements - before;
        before = stats.statements;
        await handle.inventory.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
        const repeat = stats.statements - before;
        before = stats.statements;
        await handle.inventory.checkInLoanCopy(loanId);
        return { allocate, repeat, checkIn: stats.statements - before };
      };
      const small = await cost(1);
      expect(await cost(60)).toEqual(small);
      // lock, read key, read book, take copy, read copy, insert allocation, the book's availability lock and the
      // outbox insert (its counts read in the same statement); after the commit the relay's own transaction,
      // one statement: 9 (11 where the driver counts each BEGIN).
      expect(small.allocate).toBeLessThanOrEqual(11);
      // A repeat takes the lock, reads the allocation and its copy, and writes no event.
      expect(small.repeat).toBeLessThanOrEqual(4);
      expect(small.checkIn).toBeLessThanOrEqual(11);
    });

    it('answers a copy with the fields the loans service reads', async () => {
      const book = await newBook(1);
      const res = await books.call<{ allocateCopyForLoan: { barcode: string } }>(
        `mutation ($input: AllocateForLoanInput!) { allocateCopyForLoan(input: $input) { ${COPY_FIELDS} } }`,
        { input: { loanId: randomUUID(), userId: randomUUID(), bookId: book.id } },
        asLoans(),
      );
      expect(res.data?.allocateCopyForLoan.barcode).toBe(book.copies[0]!.barcode);
    });
  });
}
