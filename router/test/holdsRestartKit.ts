/**
 * Books' availability events reach reservations through a durable stream (#9): an event sent while
 * reservations is down is handled when it starts again. Run on the in-process bus (holds-restart.test.ts)
 * and on Redis (holds-restart.redis.test.ts): books and reservations on PGlite (reservations' in a data
 * folder, so that its holds survive the restart), one bus, a patron's hold waiting on a book whose only
 * copy is lent; reservations stops, a librarian adds a copy, reservations starts again → the hold is READY
 * and the new copy is on the hold shelf for it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALLER_HEADER, callerCredential, MutableSubgraphDirectory, serviceCredential, ServiceClock, type EventBus } from '@shelfwise/kit';
import { start as startBooks, type BooksHandle } from '@shelfwise/books';
import { start as startReservations, type ReservationsHandle, type ReservationsOptions } from '@shelfwise/reservations';
import { graphql } from '@shelfwise/testkit';

/** A valid ISBN-13 (978 prefix, random body, its check digit). */
function freshIsbn(): string {
  const body = `978${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  const sum = [...body].reduce((acc, digit, i) => acc + Number(digit) * (i % 2 === 0 ? 1 : 3), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

export function describeHoldsAcrossRestart(
  title: string,
  describeFn: jest.Describe,
  bus: () => EventBus,
  disposeBus: () => Promise<void> = async () => undefined,
): void {
  describeFn(title, () => {
    const clock = new ServiceClock();
    const directory = new MutableSubgraphDirectory();
    const librarian = { [CALLER_HEADER]: callerCredential({ userId: randomUUID(), role: 'LIBRARIAN' }) };
    const loans = { [CALLER_HEADER]: serviceCredential('loans') };
    const patron = randomUUID();
    let dataDir: string;
    let books: BooksHandle;
    let reservations: ReservationsHandle | undefined;

    const startHolds = async () => {
      const options: ReservationsOptions = {
        port: 0,
        dataDir,
        bus: bus(),
        clock,
        services: directory,
        // No loans service here: the patron has nothing on loan.
        activeLoans: { hasActiveLoan: async () => false },
        holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 },
      };
      const handle = await startReservations(options);
      directory.set('reservations', handle.url);
      return handle;
    };
    const call = async <T>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
      const res = await graphql<T>(url, query, variables, headers);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!;
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'shelfwise-holds-restart-'));
      books = await startBooks({ port: 0, bus: bus(), clock, services: directory, relayIntervalMs: 0 });
      directory.set('books', books.url);
      reservations = await startHolds();
    }, 120_000);

    afterAll(async () => {
      await reservations?.stop();
      await books?.stop();
      await disposeBus();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('a copy added while reservations is down goes to the waiting hold once it is back', async () => {
      const { addBook } = await call<{ addBook: { id: string } }>(
        books.url,
        'mutation($input: AddBookInput!) { addBook(input: $input) { id } }',
        { input: { isbn: freshIsbn(), title: 'Across the Restart', authors: ['A. Author'], copies: 1 } },
        librarian,
      );
      const bookId = addBook.id;
      // Its only copy is lent, so a hold can be placed.
      await call(
        books.url,
        'mutation($l: ID!, $u: ID!, $b: ID) { allocateCopyForLoan(input: { loanId: $l, userId: $u, bookId: $b }) { id } }',
        { l: randomUUID(), u: randomUUID(), b: bookId },
        loans,
      );
      const { reserveBook: hold } = await call<{ reserveBook: { id: string; status: string } }>(
        reservations!.url,
        'mutation($b: ID!) { reserveBook(bookId: $b) { id status } }',
        { b: bookId },
        { [CALLER_HEADER]: callerCredential({ userId: patron, role: 'PATRON' }) },
      );
      expect(hold.status).toBe('WAITING');
      await reservations!.availabilitySettled();

      await reservations!.stop();
      reservations = undefined;
      // Books relays the event right after the commit (to the stream and the channel) before it answers.
      await call(books.url, 'mutation($b: ID!) { addCopies(bookId: $b, count: 1) { id availableCopies } }', { b: bookId }, librarian);
      // Nobody offered the new copy to the queue: it is on the shelf and the hold still waits.
      const shelf = await books.database.prisma.copy.findMany({ where: { bookId }, orderBy: { barcode: 'asc' } });
      expect(shelf.map((c) => c.status).sort()).toEqual(['AVAILABLE', 'ON_LOAN']);
      expect(await books.outbox.unpublishedEvents()).toBe(0);

      reservations = await startHolds();
      await reservations.availabilitySettled();
      const after = await reservations.database.prisma.reservation.findUniqueOrThrow({ where: { id: hold.id } });
      expect(after.status).toBe('READY');
      const copies = await books.database.prisma.copy.findMany({ where: { bookId }, orderBy: { barcode: 'asc' } });
      expect(copies.map((c) => c.status).sort()).toEqual(['ON_HOLD_SHELF', 'ON_LOAN']);
      expect(copies.find((c) => c.status === 'ON_HOLD_SHELF')?.id).toBe(after.copyId);
    }, 60_000);
  });
}
