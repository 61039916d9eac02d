import { conflict, notFound, type Clock } from '@shelfwise/kit';
import type { AvailabilityEvents } from '../availability.js';
import type { BookChanges, NewBook } from '../bookInput.js';
import type { CopyStatus } from '../generated/prisma/client.js';
import type { BookModel, CopyModel } from '../mappers.js';
import { authorColumns } from './BookRepository.js';
import type { PrismaClient } from './client.js';
import { isUniqueViolation, requireUuid, TX_OPTIONS, type Tx } from './common.js';

/**
 * The librarian's catalogue commands: add, edit and remove books, add copies, withdraw a copy or record it
 * lost. Each runs in one transaction (a refused command changes nothing) that also writes the book's
 * availability event to the outbox when its copies changed; the event is relayed after the commit.
 */
export class CatalogRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly availability: AvailabilityEvents,
    private readonly clock: Clock,
  ) {}

  /** Adds a book and its copies. CONFLICT names the book that already has the ISBN. */
  async addBook(book: NewBook): Promise<BookModel> {
    const existing = await this.prisma.book.findUnique({ where: { isbn: book.isbn } });
    if (existing) throw isbnTaken(existing);
    const { copies, ...fields } = book;
    let created: BookModel;
    try {
      created = await this.prisma.$transaction(async (tx) => {
        const row = await tx.book.create({ data: { ...fields, ...authorColumns(fields.authors) } });
        if (copies > 0) await tx.copy.createMany({ data: await newCopies(tx, row, copies) });
        await this.availability.record(tx, [row.id]);
        return row;
      }, TX_OPTIONS);
    } catch (err) {
      // Two librarians adding the same ISBN at once: the unique index decides, the loser hears who won.
      if (isUniqueViolation(err)) {
        const winner = await this.prisma.book.findUnique({ where: { isbn: book.isbn } });
        if (winner) throw isbnTaken(winner);
      }
      throw err;
    }
    await this.availability.afterCommit();
    return created;
  }

  /** Edits a book's details; the author columns used for matching and sorting follow the authors. */
  async updateBook(id: string, changes: BookChanges): Promise<BookModel> {
    const bookId = requireUuid(id, 'book', 'id');
    const book = await this.liveBook(this.prisma, bookId, 'edited');
    if (Object.keys(changes).length === 0) return book;
    return this.prisma.book.update({
      where: { id: bookId },
      data: { ...changes, ...(changes.authors ? authorColumns(changes.authors) : {}) },
    });
  }

  /**
   * Adds `count` copies with fresh barcodes. The book row is locked first, so two librarians adding copies
   * of one book at once number theirs one after the other instead of colliding.
   */
  async addCopies(id: string, count: number): Promise<BookModel> {
    const bookId = requireUuid(id, 'book', 'bookId');
    const book = await this.prisma.$transaction(async (tx) => {
      await lockBook(tx, bookId);
      const row = await this.liveBook(tx, bookId, 'given copies');
      await tx.copy.createMany({ data: await newCopies(tx, row, count) });
      await this.availability.record(tx, [bookId]);
      return row;
    }, TX_OPTIONS);
    await this.availability.afterCommit();
    return book;
  }

  /**
   * Removes a book from the catalogue: refused (CONFLICT) while a copy is on loan or on the hold shelf;
   * otherwise every copy is withdrawn and the book is marked withdrawn, in one transaction. The rows stay,
   * so loans and reviews keep resolving the book. Removing a removed book again answers true.
   */
  async removeBook(id: string): Promise<boolean> {
    const bookId = requireUuid(id, 'book', 'id');
    const changed = await this.prisma.$transaction(async (tx) => {
      await lockBook(tx, bookId);
      const book = await tx.book.findUnique({ where: { id: bookId } });
      if (!book) throw notFound(`There is no book with id ${bookId}.`, { bookId });
      if (book.withdrawnAt) return false;
      // Locks every copy: an allocation in flight finishes first and is seen here.
      const copies = await tx.$queryRaw<{ status: CopyStatus }[]>`
        SELECT "status"::text AS "status" FROM "Copy" WHERE "bookId" = ${bookId}::uuid FOR UPDATE`;
      const onLoan = copies.filter((c) => c.status === 'ON_LOAN').length;
      const onHold = copies.filter((c) => c.status === 'ON_HOLD_SHELF').length;
      if (onLoan + onHold > 0) {
        const out = [onLoan > 0 ? `${onLoan} on loan` : '', onHold > 0 ? `${onHold} on the hold shelf` : ''].filter(Boolean).join(' and ');
        throw conflict(
          `"${book.title}" cannot be removed while copies are in circulation (${out}). Check them in and let the holds end, then remove it.`,
          { bookId, onLoan, onHoldShelf: onHold },
        );
      }
      await tx.copy.updateMany({ where: { bookId, status: { not: 'WITHDRAWN' } }, data: { status: 'WITHDRAWN' } });
      await tx.book.update({ where: { id: bookId }, data: { withdrawnAt: this.clock.now() } });
      await this.availability.record(tx, [bookId]);
      return true;
    }, TX_OPTIONS);
    if (changed) await this.availability.afterCommit();
    return true;
  }

  /**
   * Takes a copy out of circulation for good: from the shelf, or a lost copy written off. Refused
   * (CONFLICT) while it is on loan or on the hold shelf. Withdrawing a withdrawn copy changes nothing.
   */
  async withdrawCopy(id: string): Promise<CopyModel> {
    return this.transition(id, 'WITHDRAWN', ['AVAILABLE', 'LOST'], (copy) => {
      switch (copy.status) {
        case 'ON_LOAN':
          return `Copy ${copy.barcode} is on loan. Check it in first, then withdraw it.`;
        case 'ON_HOLD_SHELF':
          return `Copy ${copy.barcode} is waiting on the hold shelf for a patron's reservation. Withdraw it once that hold is collected, cancelled or expired.`;
        default:
          return `Copy ${copy.barcode} cannot be withdrawn from ${copy.status}.`;
      }
    });
  }

  /**
   * Records a copy as lost. A copy on the shelf or on loan can be: a lost loaned copy stays counted in
   * `totalCopies` (not in `availableCopies`), its loan stays open with circulation (fines are its concern),
   * and if it turns up and is checked in for that loan it goes back on the shelf. A copy on the hold shelf
   * is refused (its reservation would point at nothing); a withdrawn one too. Marking a lost copy lost again
   * changes nothing.
   */
  async markCopyLost(id: string): Promise<CopyModel> {
    return this.transition(id, 'LOST', ['AVAILABLE', 'ON_LOAN'], (copy) => {
      switch (copy.status) {
        case 'ON_HOLD_SHELF':
          return `Copy ${copy.barcode} is waiting on the hold shelf for a patron's reservation. Cancel that reservation (or let it expire) before recording the copy as lost.`;
        case 'WITHDRAWN':
          return `Copy ${copy.barcode} is withdrawn; it is already out of circulation.`;
        default:
          return `Copy ${copy.barcode} cannot be recorded as lost from ${copy.status}.`;
      }
    });
  }

  /** A copy by its barcode (exact, surrounding spaces ignored), or null. */
  async copyByBarcode(barcode: string): Promise<CopyModel | null> {
    const code = barcode.trim();
    if (code === '') return null;
    return this.prisma.copy.findUnique({ where: { barcode: code } });
  }

  /**
   * Moves a copy to `to` with one conditional UPDATE (only from the `from` states), so it cannot race an
   * allocation: whichever commits first wins and the other sees the new status. A copy already in `to`
   * is returned unchanged; any other state is a CONFLICT with `refusal`'s message (and the transaction,
   * with the outbox row of a move, commits only when the copy moved).
   */
  private async transition(
    id: string,
    to: 'WITHDRAWN' | 'LOST',
    from: CopyStatus[],
    refusal: (copy: CopyModel) => string,
  ): Promise<CopyModel> {
    const copyId = requireUuid(id, 'copy', 'copyId');
    // Leaving ON_LOAN clears the loan pointer (it is set exactly while ON_LOAN); the loan's allocation row
    // keeps the link, so a check-in for that loan still finds the copy.
    const { copy, moved } = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.copy.updateMany({
        where: { id: copyId, status: { in: from } },
        data: { status: to, loanId: null },
      });
      const row = await tx.copy.findUnique({ where: { id: copyId } });
      if (!row) throw notFound(`There is no copy with id ${copyId}.`, { copyId });
      if (count === 0 && row.status !== to) throw conflict(refusal(row), { copyId, status: row.status });
      if (count > 0) await this.availability.record(tx, [row.bookId]);
      return { copy: row, moved: count > 0 };
    }, TX_OPTIONS);
    if (moved) await this.availability.afterCommit();
    return copy;
  }

  /** The book, unless it does not exist (NOT_FOUND) or was removed (CONFLICT: it can no longer be `what`). */
  private async liveBook(tx: Tx, bookId: string, what: string): Promise<BookModel> {
    const book = await tx.book.findUnique({ where: { id: bookId } });
    if (!book) throw notFound(`There is no book with id ${bookId}.`, { bookId });
    if (book.withdrawnAt) throw conflict(`"${book.title}" was removed from the catalogue and can no longer be ${what}.`, { bookId });
    return book;
  }
}

/** Row-locks a book for the rest of the transaction (serialises copy numbering and removal per book). */
async function lockBook(tx: Tx, bookId: string): Promise<void> {
  await tx.$queryRaw`SELECT "id"::text AS "id" FROM "Book" WHERE "id" = ${bookId}::uuid FOR UPDATE`;
}

function isbnTaken(existing: BookModel) {
  const removed = existing.withdrawnAt ? ', which was removed from the catalogue' : '';
  return conflict(
    `ISBN ${existing.isbn} already belongs to "${existing.title}" (id ${existing.id})${removed}. Add copies to that book instead.`,
    {
      field: 'isbn',
      existingBookId: existing.id,
      existingBookTitle: existing.title,
    },
  );
}

/**
 * `count` new copies numbered after the book's highest barcode (`<isbn>-001`, `-002`…), withdrawn and lost
 * copies included (barcodes are never reused). A number some other copy already carries (an imported
 * label) is skipped.
 */
async function newCopies(tx: Tx, book: BookModel, count: number): Promise<{ bookId: string; barcode: string }[]> {
  const prefix = `${book.isbn}-`;
  const own = await tx.copy.findMany({ where: { bookId: book.id }, select: { barcode: true } });
  let next = 1;
  for (const { barcode } of own) {
    const n = barcode.startsWith(prefix) && /^\d+$/.test(barcode.slice(prefix.length)) ? Number(barcode.slice(prefix.length)) : 0;
    if (n >= next) next = n + 1;
  }
  const barcodes: string[] = [];
  while (barcodes.length < count) {
    const candidates = Array.from({ length: count - barcodes.length }, (_, i) => `${prefix}${String(next + i).padStart(3, '0')}`);
    next += candidates.length;
    const taken = new Set(
      (await tx.copy.findMany({ where: { barcode: { in: candidates } }, select: { barcode: true } })).map((c) => c.barcode),
    );
    barcodes.push(...candidates.filter((b) => !taken.has(b)));
  }
  return barcodes.map((barcode) => ({ bookId: book.id, barcode }));
}
