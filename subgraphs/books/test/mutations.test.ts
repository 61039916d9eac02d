import { randomUUID } from 'node:crypto';
import { BOOK_AVAILABILITY_CHANNEL, InMemoryBus, createLogger, type EventBus } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import { parseIsbn } from '../src/isbn.js';
import { start, type BooksHandle } from '../src/server.js';
import { asPatron, asUser, BOOK_FIELDS, BooksClient, codeOf, nextIsbn, recordAvailability, type BookResult } from './harness.js';

describe('ISBN validation', () => {
  it.each([
    ['ISBN-13 with hyphens', '978-0-306-40615-7', '9780306406157'],
    ['ISBN-13 with spaces', '978 3 16 148410 0', '9783161484100'],
    ['ISBN-13 in the 979 range', '979-10-90636-07-1', '9791090636071'],
    ['ISBN-10, converted', '0-306-40615-2', '9780306406157'],
    ['ISBN-10 ending in X, converted', '0-8044-2957-X', '9780804429573'],
    ['ISBN-10 ending in a lower-case x', '080442957x', '9780804429573'],
    ['ISBN-10 with check digit 0', '0-19-853453-1', '9780198534532'],
  ])('accepts %s', (_what, input, isbn13) => {
    expect(parseIsbn(input)).toEqual({ ok: true, isbn13 });
  });

  it.each([
    ['an ISBN-13 with a wrong check digit', '978-0-306-40615-8', /check digit/],
    ['an ISBN-10 with a wrong check digit', '0-306-40615-3', /check digit/],
    ['an ISBN-10 with X in the middle', '0-8044-X957-2', /not an ISBN/],
    ['a 13-digit number outside 978/979', '977-1234-5670-0-3', /978 or 979/],
    ['too few digits', '12345', /not an ISBN/],
    ['too many digits', '97803064061571', /not an ISBN/],
    ['letters', 'ISBN-ABCDEFGHIJ', /not an ISBN/],
    ['nothing', '  - ', /required/],
  ])('refuses %s', (_what, input, reason) => {
    const result = parseIsbn(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe('catalogue mutations (PGlite)', () => {
  let handle: BooksHandle;
  let books: BooksClient;
  const bus = new InMemoryBus();
  let availability: Awaited<ReturnType<typeof recordAvailability>>;

  beforeAll(async () => {
    handle = await start({ bus });
    books = new BooksClient(handle);
    availability = await recordAvailability(bus);
  });
  afterAll(async () => {
    await handle?.stop();
    await bus.dispose();
  });

  const ADD = `mutation ($input: AddBookInput!) { addBook(input: $input) { ${BOOK_FIELDS} } }`;

  it('adds a book with its ISBN-10 stored as ISBN-13, trimmed fields and numbered copies', async () => {
    const res = await books.librarian<{ addBook: BookResult }>(ADD, {
      input: {
        isbn: '0-306-40615-2',
        title: '  The Art of Electronics  ',
        authors: [' Paul Horowitz ', 'Winfield Hill'],
        genres: ['Engineering', 'Engineering', ' Physics'],
        publishedYear: 1980,
        language: 'EN',
        description: '  A classic.  ',
        copies: 3,
      },
    });
    expect(res.errors).toBeUndefined();
    const book = res.data!.addBook;
    expect(book).toMatchObject({
      isbn: '9780306406157',
      title: 'The Art of Electronics',
      authors: ['Paul Horowitz', 'Winfield Hill'],
      genres: ['Engineering', 'Physics'],
      publishedYear: 1980,
      language: 'en',
      description: 'A classic.',
      totalCopies: 3,
      availableCopies: 3,
    });
    expect(book.copies.map((c) => c.barcode)).toEqual(['9780306406157-001', '9780306406157-002', '9780306406157-003']);
    // The derived author columns follow the authors (author filter and AUTHOR sort use them).
    const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id } });
    expect([row.authorsText, row.sortAuthor]).toEqual(['Paul Horowitz | Winfield Hill', 'paul horowitz']);
    await books.expectCountsAgree(book.id);
    await eventually(() => availability.forBook(book.id).length === 1, 2000, 'the addBook availability event');
    expect(availability.forBook(book.id)[0]).toMatchObject({ bookId: book.id, totalCopies: 3, availableCopies: 3 });
  });

  it('defaults to one copy and English, and allows zero copies', async () => {
    const one = await books.addBook({ isbn: nextIsbn(1), title: 'Defaults', authors: ['A. Writer'] });
    expect([one.copies.length, one.language, one.genres, one.publishedYear, one.description]).toEqual([1, 'en', [], null, null]);
    const none = await books.addBook({ isbn: nextIsbn(1), title: 'On order', authors: ['A. Writer'], copies: 0 });
    expect([none.totalCopies, none.availableCopies, none.copies]).toEqual([0, 0, []]);
  });

  it('refuses a taken ISBN (in either form) with CONFLICT naming the book that has it, and changes nothing', async () => {
    const existing = await books.addBook({ isbn: '978-0-8044-2957-3', title: 'Already Here', authors: ['Someone'] });
    const before = await handle.database.prisma.book.count();
    for (const isbn of ['0-8044-2957-X', '9780804429573']) {
      const res = await books.librarian(ADD, { input: { isbn, title: 'Duplicate', authors: ['Someone else'] } });
      expect(codeOf(res)).toBe('CONFLICT');
      expect(res.errors![0]!.message).toContain('"Already Here"');
      expect(res.errors![0]!.message).toContain(existing.id);
      expect(res.errors![0]!.extensions).toMatchObject({ existingBookId: existing.id, existingBookTitle: 'Already Here' });
    }
    expect(await handle.database.prisma.book.count()).toBe(before);
  });

  it.each([
    ['an invalid ISBN', { isbn: '978-0-306-40615-8' }, 'isbn'],
    ['a blank title', { title: '   ' }, 'title'],
    ['a title over 500 characters', { title: 'x'.repeat(501) }, 'title'],
    ['no author', { authors: [] }, 'authors'],
    ['a blank author', { authors: ['Ann', '  '] }, 'authors'],
    ['a blank genre', { genres: [''] }, 'genres'],
    ['a three-letter language', { language: 'eng' }, 'language'],
    ['a year before 1000', { publishedYear: 999 }, 'publishedYear'],
    ['a year two years ahead', { publishedYear: new Date().getUTCFullYear() + 2 }, 'publishedYear'],
    ['a description over 5000 characters', { description: 'd'.repeat(5001) }, 'description'],
    ['101 copies', { copies: 101 }, 'copies'],
    ['negative copies', { copies: -1 }, 'copies'],
  ])('refuses %s (BAD_USER_INPUT naming the field) and adds nothing', async (_what, override, field) => {
    const before = await handle.database.prisma.book.count();
    const res = await books.librarian(ADD, { input: { isbn: nextIsbn(2), title: 'Valid', authors: ['Valid Author'], ...override } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions?.field).toBe(field);
    expect(await handle.database.prisma.book.count()).toBe(before);
  });

  it('accepts a 500-character title, 100 copies and a 5000-character description (the limits themselves)', async () => {
    const book = await books.addBook({
      isbn: nextIsbn(3),
      title: 't'.repeat(500),
      authors: ['Limit'],
      description: 'd'.repeat(5000),
      copies: 100,
    });
    expect([book.title.length, book.description?.length, book.totalCopies]).toEqual([500, 5000, 100]);
    expect(new Set(book.copies.map((c) => c.barcode)).size).toBe(100);
    expect(book.copies.at(-1)?.barcode).toBe(`${book.isbn}-100`);
  });

  const librarianOnly: [string, (ids: { bookId: string; copyId: string }) => [string, Record<string, unknown>]][] = [
    ['addBook', () => [ADD, { input: { isbn: nextIsbn(4), title: 'Nope', authors: ['Nobody'] } }]],
    ['updateBook', ({ bookId }) => ['mutation ($id: ID!) { updateBook(id: $id, input: { title: "Hacked" }) { id } }', { id: bookId }]],
    ['removeBook', ({ bookId }) => ['mutation ($id: ID!) { removeBook(id: $id) }', { id: bookId }]],
    ['addCopies', ({ bookId }) => ['mutation ($id: ID!) { addCopies(bookId: $id, count: 1) { id } }', { id: bookId }]],
    ['withdrawCopy', ({ copyId }) => ['mutation ($id: ID!) { withdrawCopy(copyId: $id) { id } }', { id: copyId }]],
    ['markCopyLost', ({ copyId }) => ['mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: copyId }]],
  ];

  it.each(librarianOnly)(
    'refuses %s to a patron (FORBIDDEN) and to an anonymous caller (UNAUTHENTICATED), changing nothing',
    async (_name, make) => {
      const book = await books.addBook({ isbn: nextIsbn(5), title: 'Guarded', authors: ['Keeper'], copies: 1 });
      const [query, variables] = make({ bookId: book.id, copyId: book.copies[0]!.id });
      const booksBefore = await handle.database.prisma.book.count();
      expect(codeOf(await books.call(query, variables, asPatron()))).toBe('FORBIDDEN');
      expect(codeOf(await books.call(query, variables))).toBe('UNAUTHENTICATED');
      expect(await handle.database.prisma.book.count()).toBe(booksBefore);
      const after = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id }, include: { copies: true } });
      expect([after.title, after.withdrawnAt, after.copies.map((c) => c.status)]).toEqual(['Guarded', null, ['AVAILABLE']]);
    },
  );

  it('lets an admin do what a librarian does', async () => {
    const res = await books.call<{ addBook: { isbn: string } }>(
      ADD,
      { input: { isbn: nextIsbn(6), title: 'By admin', authors: ['Boss'] } },
      asUser('ADMIN'),
    );
    expect(res.errors).toBeUndefined();
  });

  describe('updateBook', () => {
    const UPDATE = `mutation ($id: ID!, $input: UpdateBookInput!) { updateBook(id: $id, input: $input) { ${BOOK_FIELDS} } }`;

    it('changes only the given fields, clears nullable ones, and keeps the author columns in step', async () => {
      const book = await books.addBook({
        isbn: nextIsbn(7),
        title: 'Old title',
        authors: ['Zed Author'],
        genres: ['Old'],
        publishedYear: 2001,
        description: 'Old description',
      });
      const res = await books.librarian<{ updateBook: BookResult }>(UPDATE, {
        id: book.id,
        input: { title: ' New title ', authors: ['Aaron First', 'Second'], publishedYear: null, description: null },
      });
      expect(res.errors).toBeUndefined();
      expect(res.data!.updateBook).toMatchObject({
        isbn: book.isbn,
        title: 'New title',
        authors: ['Aaron First', 'Second'],
        genres: ['Old'],
        publishedYear: null,
        description: null,
        language: 'en',
      });
      const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id } });
      expect([row.authorsText, row.sortAuthor]).toEqual(['Aaron First | Second', 'aaron first']);
      const found = await books.call<{ books: { edges: { node: { id: string } }[] } }>(
        '{ books(filter: { author: "aaron first" }) { edges { node { id } } } }',
      );
      expect(found.data?.books.edges.map((e) => e.node.id)).toEqual([book.id]);
    });

    it('refuses clearing a required field, bad values, unknown and malformed ids', async () => {
      const book = await books.addBook({ isbn: nextIsbn(8), title: 'Stays', authors: ['Same'] });
      for (const input of [{ title: null }, { authors: null }, { language: null }, { authors: [] }, { title: ' ' }, { language: 'xx1' }]) {
        expect(codeOf(await books.librarian(UPDATE, { id: book.id, input }))).toBe('BAD_USER_INPUT');
      }
      expect(codeOf(await books.librarian(UPDATE, { id: randomUUID(), input: { title: 'x' } }))).toBe('NOT_FOUND');
      expect(codeOf(await books.librarian(UPDATE, { id: 'not-an-id', input: { title: 'x' } }))).toBe('BAD_USER_INPUT');
      const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id } });
      expect([row.title, row.authors, row.language]).toEqual(['Stays', ['Same'], 'en']);
    });
  });

  describe('copies', () => {
    const ADD_COPIES = `mutation ($id: ID!, $n: Int!) { addCopies(bookId: $id, count: $n) { ${BOOK_FIELDS} } }`;
    const WITHDRAW = 'mutation ($id: ID!) { withdrawCopy(copyId: $id) { id barcode status } }';
    const LOST = 'mutation ($id: ID!) { markCopyLost(copyId: $id) { id barcode status } }';

    it('numbers added copies after the highest barcode, withdrawn ones included, and never reuses one', async () => {
      const book = await books.addBook({ isbn: nextIsbn(9), title: 'Numbered', authors: ['Counter'], copies: 3 });
      const last = book.copies.find((c) => c.barcode.endsWith('-003'))!;
      expect((await books.librarian(WITHDRAW, { id: last.id })).errors).toBeUndefined();
      const res = await books.librarian<{ addCopies: BookResult }>(ADD_COPIES, { id: book.id, n: 2 });
      expect(res.errors).toBeUndefined();
      expect(res.data!.addCopies.copies.map((c) => [c.barcode.slice(-3), c.status])).toEqual([
        ['001', 'AVAILABLE'],
        ['002', 'AVAILABLE'],
        ['003', 'WITHDRAWN'],
        ['004', 'AVAILABLE'],
        ['005', 'AVAILABLE'],
      ]);
      expect([res.data!.addCopies.totalCopies, res.data!.addCopies.availableCopies]).toEqual([4, 4]);
      await books.expectCountsAgree(book.id);
    });

    it('skips a barcode another copy already carries (an imported label)', async () => {
      const book = await books.addBook({ isbn: nextIsbn(9), title: 'Labelled', authors: ['Counter'], copies: 1 });
      const other = await books.addBook({ isbn: nextIsbn(9), title: 'Other', authors: ['Counter'], copies: 1 });
      await handle.database.prisma.copy.update({ where: { id: other.copies[0]!.id }, data: { barcode: `${book.isbn}-002` } });
      const res = await books.librarian<{ addCopies: BookResult }>(ADD_COPIES, { id: book.id, n: 1 });
      expect(res.data!.addCopies.copies.map((c) => c.barcode.slice(-3))).toEqual(['001', '003']);
    });

    it('refuses a count outside 1–100, an unknown book and a malformed id', async () => {
      const book = await books.addBook({ isbn: nextIsbn(9), title: 'Bounded', authors: ['Counter'], copies: 1 });
      for (const n of [0, -2, 101]) expect(codeOf(await books.librarian(ADD_COPIES, { id: book.id, n }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await books.librarian(ADD_COPIES, { id: randomUUID(), n: 1 }))).toBe('NOT_FOUND');
      expect(codeOf(await books.librarian(ADD_COPIES, { id: '42', n: 1 }))).toBe('BAD_USER_INPUT');
      expect(await handle.database.prisma.copy.count({ where: { bookId: book.id } })).toBe(1);
    });

    it('marks a copy lost then withdraws it; refuses the transitions that make no sense, with CONFLICT', async () => {
      const book = await books.addBook({ isbn: nextIsbn(10), title: 'Transitions', authors: ['Mover'], copies: 2 });
      const [a, b] = book.copies as [BookResult['copies'][0], BookResult['copies'][0]];

      const lost = await books.librarian<{ markCopyLost: { status: string } }>(LOST, { id: a.id });
      expect(lost.data?.markCopyLost.status).toBe('LOST');
      expect(await books.expectCountsAgree(book.id)).toEqual([2, 1]); // lost copies still count as owned
      // Marking it lost again changes nothing.
      expect((await books.librarian<{ markCopyLost: { status: string } }>(LOST, { id: a.id })).data?.markCopyLost.status).toBe('LOST');

      const written = await books.librarian<{ withdrawCopy: { status: string } }>(WITHDRAW, { id: a.id });
      expect(written.data?.withdrawCopy.status).toBe('WITHDRAWN');
      expect(await books.expectCountsAgree(book.id)).toEqual([1, 1]);
      expect((await books.librarian<{ withdrawCopy: { status: string } }>(WITHDRAW, { id: a.id })).data?.withdrawCopy.status).toBe(
        'WITHDRAWN',
      );

      const backToLost = await books.librarian(LOST, { id: a.id });
      expect(codeOf(backToLost)).toBe('CONFLICT');
      expect(backToLost.errors![0]!.message).toMatch(/withdrawn/);

      // On the hold shelf: neither.
      await handle.inventory.allocateForHold(randomUUID(), book.id);
      const held = await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: b.id } });
      expect(held.status).toBe('ON_HOLD_SHELF');
      for (const mutation of [WITHDRAW, LOST]) {
        const res = await books.librarian(mutation, { id: b.id });
        expect(codeOf(res)).toBe('CONFLICT');
        expect(res.errors![0]!.message).toMatch(/hold shelf/);
      }
      expect((await handle.database.prisma.copy.findUniqueOrThrow({ where: { id: b.id } })).status).toBe('ON_HOLD_SHELF');
    });

    it('refuses to withdraw a copy on loan, but records it lost (counted as owned, not available)', async () => {
      const book = await books.addBook({ isbn: nextIsbn(11), title: 'Out', authors: ['Borrower'], copies: 1 });
      const loanId = randomUUID();
      await handle.inventory.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
      const refused = await books.librarian(WITHDRAW, { id: book.copies[0]!.id });
      expect(codeOf(refused)).toBe('CONFLICT');
      expect(refused.errors![0]!.message).toMatch(/on loan.*[Cc]heck it in/);
      const lost = await books.librarian<{ markCopyLost: { status: string } }>(LOST, { id: book.copies[0]!.id });
      expect(lost.data?.markCopyLost.status).toBe('LOST');
      expect(await books.expectCountsAgree(book.id)).toEqual([1, 0]);
    });

    it('refuses unknown and malformed copy ids', async () => {
      expect(codeOf(await books.librarian(WITHDRAW, { id: randomUUID() }))).toBe('NOT_FOUND');
      expect(codeOf(await books.librarian(LOST, { id: randomUUID() }))).toBe('NOT_FOUND');
      expect(codeOf(await books.librarian(LOST, { id: 'copy-1' }))).toBe('BAD_USER_INPUT');
    });

    it('finds a copy by its barcode for anyone, and answers null for an unknown one', async () => {
      const book = await books.addBook({ isbn: nextIsbn(12), title: 'Scanned', authors: ['Desk'], copies: 1 });
      const q = 'query ($b: String!) { copyByBarcode(barcode: $b) { id status book { title } } }';
      const res = await books.call<{ copyByBarcode: { id: string; book: { title: string } } | null }>(q, {
        b: ` ${book.copies[0]!.barcode} `,
      });
      expect(res.data?.copyByBarcode).toMatchObject({ id: book.copies[0]!.id, book: { title: 'Scanned' } });
      expect((await books.call<{ copyByBarcode: null }>(q, { b: 'no-such-label' })).data?.copyByBarcode).toBeNull();
      expect((await books.call<{ copyByBarcode: null }>(q, { b: '' })).data?.copyByBarcode).toBeNull();
    });
  });

  describe('removeBook', () => {
    const REMOVE = 'mutation ($id: ID!) { removeBook(id: $id) }';

    it('is refused while a copy is on loan or on the hold shelf, and then changes nothing', async () => {
      const book = await books.addBook({ isbn: nextIsbn(13), title: 'Busy', authors: ['Popular'], copies: 3 });
      const loanId = randomUUID();
      await handle.inventory.allocateForLoan({ loanId, userId: randomUUID(), bookId: book.id });
      await handle.inventory.allocateForHold(randomUUID(), book.id);
      const res = await books.librarian(REMOVE, { id: book.id });
      expect(codeOf(res)).toBe('CONFLICT');
      expect(res.errors![0]!.message).toContain('1 on loan and 1 on the hold shelf');
      expect(res.errors![0]!.extensions).toMatchObject({ onLoan: 1, onHoldShelf: 1 });
      const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id }, include: { copies: true } });
      expect(row.withdrawnAt).toBeNull();
      expect(row.copies.map((c) => c.status).sort()).toEqual(['AVAILABLE', 'ON_HOLD_SHELF', 'ON_LOAN']);
    });

    it('withdraws the book and every copy, hides it from the catalogue, and keeps it resolvable for history', async () => {
      const book = await books.addBook({ isbn: nextIsbn(14), title: 'Zanzibar Farewell', authors: ['Gone'], copies: 2 });
      await books.librarian('mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: book.copies[0]!.id });
      const seen = availability.forBook(book.id).length;
      const res = await books.librarian<{ removeBook: boolean }>(REMOVE, { id: book.id });
      expect(res).toEqual({ data: { removeBook: true } });

      const row = await handle.database.prisma.book.findUniqueOrThrow({ where: { id: book.id }, include: { copies: true } });
      expect(row.withdrawnAt).not.toBeNull();
      expect(row.copies.map((c) => c.status)).toEqual(['WITHDRAWN', 'WITHDRAWN']);
      expect(await books.expectCountsAgree(book.id)).toEqual([0, 0]);
      await eventually(() => availability.forBook(book.id).length === seen + 1, 2000, 'the removal event');
      expect(availability.forBook(book.id).at(-1)).toMatchObject({ totalCopies: 0, availableCopies: 0 });

      expect((await books.call<{ book: null }>('query ($id: ID!) { book(id: $id) { id } }', { id: book.id })).data?.book).toBeNull();
      const search = await books.call<{ books: { totalCount: number } }>('{ books(query: "Zanzibar") { totalCount } }');
      expect(search.data?.books.totalCount).toBe(0);
      // Loans and reviews still point at it: _entities resolves it, copies included.
      const entity = await books.call<{ _entities: [{ title: string; copies: { status: string }[] }] }>(
        'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { title copies { status } } } }',
        { reps: [{ __typename: 'Book', id: book.id }] },
      );
      expect(entity.data?._entities[0]).toEqual({ title: 'Zanzibar Farewell', copies: [{ status: 'WITHDRAWN' }, { status: 'WITHDRAWN' }] });

      // Removing it again answers true and changes nothing; it can no longer be edited or given copies.
      expect((await books.librarian(REMOVE, { id: book.id })).data).toEqual({ removeBook: true });
      const edit = await books.librarian('mutation ($id: ID!) { updateBook(id: $id, input: { title: "Back" }) { id } }', { id: book.id });
      expect(codeOf(edit)).toBe('CONFLICT');
      expect(edit.errors![0]!.message).toMatch(/removed from the catalogue/);
      expect(codeOf(await books.librarian('mutation ($id: ID!) { addCopies(bookId: $id, count: 1) { id } }', { id: book.id }))).toBe(
        'CONFLICT',
      );
      // A new book with its ISBN is refused, naming the removed one.
      const again = await books.librarian(ADD, { input: { isbn: book.isbn, title: 'Again', authors: ['Gone'] } });
      expect(codeOf(again)).toBe('CONFLICT');
      expect(again.errors![0]!.message).toMatch(/Zanzibar Farewell.*removed/);
    });

    it('answers NOT_FOUND for an unknown book and BAD_USER_INPUT for a malformed id', async () => {
      expect(codeOf(await books.librarian(REMOVE, { id: randomUUID() }))).toBe('NOT_FOUND');
      expect(codeOf(await books.librarian(REMOVE, { id: 'abc' }))).toBe('BAD_USER_INPUT');
    });
  });

  it('publishes availability after each change to copies, and nothing for a refused command', async () => {
    const book = await books.addBook({ isbn: nextIsbn(15), title: 'Watched', authors: ['Observer'], copies: 1 });
    await eventually(() => availability.forBook(book.id).length === 1, 2000, 'the addBook event');
    await books.librarian('mutation ($id: ID!) { addCopies(bookId: $id, count: 2) { id } }', { id: book.id });
    await books.librarian('mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: book.copies[0]!.id });
    await books.librarian('mutation ($id: ID!) { withdrawCopy(copyId: $id) { id } }', { id: book.copies[0]!.id });
    // Refused (already withdrawn → lost) and no-op (withdrawn again): no event.
    await books.librarian('mutation ($id: ID!) { markCopyLost(copyId: $id) { id } }', { id: book.copies[0]!.id });
    await books.librarian('mutation ($id: ID!) { withdrawCopy(copyId: $id) { id } }', { id: book.copies[0]!.id });
    // Editing details does not change availability.
    await books.librarian('mutation ($id: ID!) { updateBook(id: $id, input: { title: "Watched 2" }) { id } }', { id: book.id });
    await eventually(() => availability.forBook(book.id).length >= 4, 2000, 'four events');
    await new Promise((r) => setTimeout(r, 50));
    expect(availability.forBook(book.id).map((e) => [e.totalCopies, e.availableCopies])).toEqual([
      [1, 1],
      [3, 3],
      [3, 2],
      [2, 2],
    ]);
    const times = availability.forBook(book.id).map((e) => Date.parse(e.at));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });

  it('refuses to run the subscription over HTTP, pointing at the router', async () => {
    const res = await books.call('subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }', {
      ids: [randomUUID()],
    });
    expect(res.errors?.[0]?.message).toMatch(/router over WebSocket/);
    expect(res.data ?? null).toBeNull();
  });
});

describe('availability publishing that fails', () => {
  it('is logged and never fails the command that committed', async () => {
    const errors: unknown[] = [];
    const logger = createLogger('books-test');
    logger.error = ((obj: unknown) => {
      errors.push(obj);
    }) as typeof logger.error;
    const broken: EventBus = {
      publish: () => Promise.reject(new Error('bus down')),
      subscribe: () => Promise.resolve(async () => undefined),
      append: () => Promise.reject(new Error('bus down')),
      consume: () => Promise.reject(new Error('bus down')),
      ping: () => Promise.resolve(),
      dispose: () => Promise.resolve(),
    };
    const handle = await start({ bus: broken, logger });
    try {
      const client = new BooksClient(handle);
      const book = await client.addBook({ isbn: nextIsbn(16), title: 'Still added', authors: ['Resilient'], copies: 2 });
      expect(book.totalCopies).toBe(2);
      expect(await handle.database.prisma.book.count()).toBe(1);
      expect(errors).toHaveLength(1);
      expect(JSON.stringify(errors[0])).toContain(book.id);
      expect(BOOK_AVAILABILITY_CHANNEL).toBe('books.availability');
    } finally {
      await handle.stop();
    }
  });
});
